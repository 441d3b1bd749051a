package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The seeds' partition limit, verbatim, and its override for one service
// account.
const (
	seedPartitionLimit = `{
    "kind" : "Interceptor",
    "apiVersion" : "gateway/v2",
    "metadata" : {
      "name" : "less-than-6-partitions"
    },
    "spec" : {
      "pluginClass": "io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin",
      "priority": 100,
      "config": {
        "topic": ".*",
        "numPartition": {
          "min": 1,
          "max": 6,
          "action": "BLOCK"
        }
      }
    }
  }`
	seedPartitionLimitForClickstream = `{
  "kind" : "Interceptor",
  "apiVersion" : "gateway/v2",
  "metadata" : {
    "name" : "less-than-6-partitions",
    "scope": {
      "username": "sa-clickstream"
    }
  },
  "spec" : {
    "pluginClass": "io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin",
    "priority": 100,
    "config": {
      "topic": ".*",
      "numPartition": {
        "min": 1,
        "max": 20,
        "action": "BLOCK"
      }
    }
  }
}`
)

// TestInterceptorSeedExample applies the seeds' documents unchanged and
// creates topics with Kafka's kafka-topics as two passthrough accounts: the
// global limit refuses ten partitions, the same-named interceptor scoped
// to sa-clickstream overrides it for that account only.
func TestInterceptorSeedExample(t *testing.T) {
	requireReal(t)
	srv := saslNodes(t, 1)[0]
	run := time.Now().UnixNano() % 1e6
	accounts := map[string]string{}
	for _, user := range []string{"sa-clickstream", "sa-billing"} {
		apply(t, srv, `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"`+user+`"},"spec":{"type":"LOCAL"}}`)
		accounts[user], _ = token(t, srv, "passthrough", user, time.Hour)
	}
	apply(t, srv, seedPartitionLimit)
	t.Cleanup(func() { adminCall(t, srv, "DELETE", "/gateway/v2/interceptor/less-than-6-partitions", "") })

	create := func(user, topic string, partitions int) (string, error) {
		return kafkaTool(t, srv, user, accounts[user], "org.apache.kafka.tools.TopicCommand", "--create", "--topic", topic,
			"--partitions", fmt.Sprint(partitions), "--replication-factor", "1")
	}
	wide := fmt.Sprintf("seed-wide-%d", run)
	out, err := create("sa-billing", wide, 10)
	if err == nil || !strings.Contains(out, "PolicyViolation") || !strings.Contains(out, "10 partitions, must be between 1 and 6") {
		t.Fatalf("10 partitions under the global limit: err %v\n%s", err, tail(out))
	}
	if out, err := create("sa-billing", fmt.Sprintf("seed-narrow-%d", run), 6); err != nil {
		t.Fatalf("6 partitions: %v\n%s", err, tail(out))
	}
	if out, err := create("sa-clickstream", wide+"-cs", 10); err == nil {
		t.Fatalf("sa-clickstream is limited to 6 before its override exists:\n%s", tail(out))
	}

	apply(t, srv, seedPartitionLimitForClickstream)
	t.Cleanup(func() {
		adminCall(t, srv, "DELETE", "/gateway/v2/interceptor/less-than-6-partitions", `{"scope":{"username":"sa-clickstream"}}`)
	})
	if out, err := create("sa-clickstream", wide+"-cs", 10); err != nil {
		t.Fatalf("sa-clickstream's override allows 10 partitions: %v\n%s", err, tail(out))
	}
	if out, err := create("sa-clickstream", wide+"-cs2", 21); err == nil || !strings.Contains(out, "between 1 and 20") {
		t.Fatalf("sa-clickstream's override still caps at 20: %v\n%s", err, tail(out))
	}
	if out, err := create("sa-billing", wide, 10); err == nil {
		t.Fatalf("the override leaked to another account:\n%s", tail(out))
	}
	if got := describedPartitions(t, wide+"-cs"); got != 10 {
		t.Errorf("the backing cluster has %s with %d partitions, want 10", wide+"-cs", got)
	}
	if got := describedPartitions(t, wide); got != 0 {
		t.Errorf("a refused topic exists on the backing cluster with %d partitions", got)
	}

	// The resolve endpoint explains who gets which instance.
	code, body := adminCall(t, srv, "POST", "/gateway/v2/interceptor/resolve", `{"username":"sa-clickstream","groups":[]}`)
	if code != http.StatusOK || !strings.Contains(body, `"max":20`) || strings.Contains(body, `"max":6`) {
		t.Errorf("resolve for sa-clickstream: %d %s", code, body)
	}
	code, body = adminCall(t, srv, "POST", "/gateway/v2/interceptor/resolve", `{"username":"sa-billing"}`)
	if code != http.StatusOK || !strings.Contains(body, `"max":6`) {
		t.Errorf("resolve for sa-billing: %d %s", code, body)
	}
	code, body = adminCall(t, srv, "GET", "/gateway/v2/plugin", "")
	var plugins []struct {
		Name    string         `json:"name"`
		Classes []string       `json:"pluginClasses"`
		Schema  map[string]any `json:"configSchema"`
		README  string         `json:"readme"`
	}
	if err := json.Unmarshal([]byte(body), &plugins); code != http.StatusOK || err != nil {
		t.Fatalf("GET plugin: %d %v", code, err)
	}
	found := false
	for _, p := range plugins {
		if p.Name == "CreateTopicPolicy" {
			found = p.Schema["properties"].(map[string]any)["numPartition"] != nil && strings.Contains(p.README, "# CreateTopicPolicy")
		}
	}
	if !found {
		t.Errorf("GET plugin lacks CreateTopicPolicy with its schema and README")
	}
}

// describedPartitions returns a topic's partition count on the backing
// cluster, 0 when it does not exist.
func describedPartitions(t *testing.T, topic string) int {
	t.Helper()
	adm := kadm.NewClient(backingClient(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	td, ok := d[topic]
	if !ok || td.Err != nil {
		return 0
	}
	return len(td.Partitions)
}

// TestInterceptorConfigValidation: a bad config is refused with the field
// named and nothing stored.
func TestInterceptorConfigValidation(t *testing.T) {
	requireReal(t)
	srv := single.gateway
	for doc, field := range map[string]string{
		`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bad-config"},"spec":{"pluginClass":"CreateTopicPolicy","priority":1,"config":{"numPartitions":{"max":6}}}}`:    "spec.config.numPartitions",
		`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bad-config"},"spec":{"pluginClass":"CreateTopicPolicy","priority":1,"config":{"numPartition":{"max":"six"}}}}`: "spec.config.numPartition.max",
		`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bad-config"},"spec":{"pluginClass":"CreateTopicPolicy","priority":1,"config":{"topic":"orders-("}}}`:           "spec.config.topic",
		`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bad-config"},"spec":{"pluginClass":"NoSuchPlugin","priority":1}}`:                                              "spec.pluginClass",
	} {
		code, body := adminCall(t, srv, "PUT", "/gateway/v2/interceptor", doc)
		if code != http.StatusBadRequest || !strings.Contains(body, field) {
			t.Errorf("PUT %s: %d %s, want 400 naming %s", doc, code, body, field)
		}
	}
	if code, _ := adminCall(t, srv, "GET", "/gateway/v2/interceptor/bad-config", ""); code != http.StatusNotFound {
		t.Errorf("a refused config was stored: GET answered %d", code)
	}
}

// TestInterceptorHotReload changes the interceptors while one client keeps
// producing on its connections: each change applies to the next request
// of the same connections, nothing reconnects, and no produce fails.
func TestInterceptorHotReload(t *testing.T) {
	requireReal(t)
	srv := single.gateway
	var connects atomic.Int64
	cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.WithHooks(connectCounter{&connects}),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := time.Now().UnixNano() % 1e6
	traffic := fmt.Sprintf("reload-traffic-%d", run)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, traffic); err != nil {
		t.Fatal(err)
	}

	// Live traffic on the same client for the whole test.
	var produced atomic.Int64
	var produceErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: traffic, Value: []byte("x")}).FirstErr(); err != nil {
				produceErr.Store(err)
				return
			}
			produced.Add(1)
		}
	}()
	createWith := func(name string, partitions int32) error {
		resp, err := adm.CreateTopic(ctx, partitions, 1, nil, name)
		if err != nil {
			return err
		}
		return resp.Err
	}
	if err := createWith(fmt.Sprintf("reload-before-%d", run), 4); err != nil {
		t.Fatalf("before any interceptor: %v", err)
	}
	before := connects.Load()
	limit := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"reload-limit"},"spec":{"pluginClass":"CreateTopicPolicy","priority":1,"config":{"topic":"reload-.*","numPartition":{"max":%d}}}}`
	apply(t, srv, fmt.Sprintf(limit, 2))
	t.Cleanup(func() { adminCall(t, srv, "DELETE", "/gateway/v2/interceptor/reload-limit", "") })
	if err := createWith(fmt.Sprintf("reload-limited-%d", run), 4); !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("after applying a limit of 2: %v, want POLICY_VIOLATION", err)
	}
	apply(t, srv, fmt.Sprintf(limit, 8))
	if err := createWith(fmt.Sprintf("reload-raised-%d", run), 4); err != nil {
		t.Fatalf("after raising the limit to 8: %v", err)
	}
	if code, body := adminCall(t, srv, "DELETE", "/gateway/v2/interceptor/reload-limit", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if err := createWith(fmt.Sprintf("reload-after-%d", run), 40); err != nil {
		t.Fatalf("after deleting the interceptor: %v", err)
	}
	close(stop)
	wg.Wait()
	if err, _ := produceErr.Load().(error); err != nil {
		t.Fatalf("live traffic failed during the changes: %v", err)
	}
	if produced.Load() == 0 {
		t.Fatal("no live traffic was produced")
	}
	if n := connects.Load() - before; n != 0 {
		t.Errorf("the client opened %d new connections while interceptors changed", n)
	}
}

// connectCounter counts a franz-go client's broker connections.
type connectCounter struct{ n *atomic.Int64 }

func (c connectCounter) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil {
		c.n.Add(1)
	}
}
