package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/server"
)

// adminCall sends one admin API request to a node.
func adminCall(t *testing.T, srv *server.Server, method, path, body string) (int, string) {
	t.Helper()
	return adminAt(t, "http://"+srv.HTTPAddr(), method, path, body)
}

// adminAt sends one admin API request to the node serving base.
func adminAt(t *testing.T, base, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("e2e-admin", "e2e-admin-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls a node's API until check accepts the answer.
func waitFor(t *testing.T, srv *server.Server, path string, check func(code int, body string) bool) time.Duration {
	t.Helper()
	return waitAt(t, "http://"+srv.HTTPAddr(), path, check)
}

// waitAt polls the API of the node serving base until check accepts the
// answer.
func waitAt(t *testing.T, base, path string, check func(code int, body string) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 15*time.Second {
		if code, body := adminAt(t, base, "GET", path, ""); check(code, body) {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body := adminAt(t, base, "GET", path, "")
	t.Fatalf("GET %s never satisfied the check; last answer %d %s", path, code, body)
	return 0
}

// secondNode starts another gateway on the same backing cluster as b.
func secondNode(t *testing.T, b *backend) *server.Server {
	t.Helper()
	cfg := gatewayConfig()
	cfg.Backing.Bootstrap = strings.Split(b.direct, ",")
	cfg.Backing.SecurityProtocol = "PLAINTEXT"
	cfg.MinBrokerID, cfg.PortCount = 1, b.nodes+2
	srv, err := startGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

func requireSingle(t *testing.T) {
	t.Helper()
	if single == nil {
		t.Skip("-short: real Kafka is not started")
	}
}

// TestStateSharedAcrossNodes: a change made through one node's admin API is
// in force on another node; a node started later rebuilds the same state.
func TestStateSharedAcrossNodes(t *testing.T) {
	requireSingle(t)
	a, b := single.gateway, secondNode(t, single)
	name := fmt.Sprintf("group-%d", time.Now().UnixNano())
	doc := `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"` + name + `"},"spec":{"members":[{"name":"alice"}]}}`
	if code, body := adminCall(t, a, "PUT", "/gateway/v2/group", doc); code != 200 || !strings.Contains(body, "CREATED") {
		t.Fatalf("PUT on node A: %d %s", code, body)
	}
	took := waitFor(t, b, "/gateway/v2/group/"+name, func(code int, body string) bool { return code == 200 && strings.Contains(body, "alice") })
	t.Logf("change visible on node B after %s", took)

	if code, body := adminCall(t, b, "DELETE", "/gateway/v2/group/"+name, ""); code != 204 {
		t.Fatalf("DELETE on node B: %d %s", code, body)
	}
	waitFor(t, a, "/gateway/v2/group/"+name, func(code int, _ string) bool { return code == 404 })

	keep := fmt.Sprintf("kept-%d", time.Now().UnixNano())
	if code, body := adminCall(t, a, "PUT", "/gateway/v2/group", strings.Replace(doc, name, keep, 1)); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	c := secondNode(t, single) // starts after the change: rebuilds it from the topic
	if code, body := adminCall(t, c, "GET", "/gateway/v2/group/"+keep, ""); code != 200 {
		t.Fatalf("new node lacks the group: %d %s", code, body)
	}
}

// TestHandProducedConfigRecords: records produced straight to the config
// topic are applied when valid and rejected, without harm, when not.
func TestHandProducedConfigRecords(t *testing.T) {
	requireSingle(t)
	node := single.gateway
	cl, err := kgo.NewClient(kgo.SeedBrokers(single.direct), kgo.DefaultProduceTopic("_strait_gateway_config"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(key, value string) {
		t.Helper()
		var v []byte
		if value != "" {
			v = []byte(value)
		}
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Key: []byte(key), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	name := fmt.Sprintf("by-hand-%d", time.Now().UnixNano())
	key := `{"kind":"GatewayServiceAccount","metadata":{"name":"` + name + `"}}`
	valid := `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"` + name + `"},"spec":{"type":"LOCAL"}}`
	produce(key, valid)
	waitFor(t, node, "/gateway/v2/service-account/"+name, func(code int, body string) bool { return code == 200 && strings.Contains(body, "LOCAL") })

	// Invalid records for the same key: garbage, an invalid spec, and a
	// valid document under a key that is not its canonical key.
	produce(key, `not json at all`)
	produce(key, strings.Replace(valid, "LOCAL", "ROBOT", 1))
	produce(`{"kind": "GatewayServiceAccount", "metadata": {"name": "`+name+`"}}`, strings.Replace(valid, "LOCAL", "EXTERNAL", 1))
	// Then a valid change: once it shows, the invalid ones were passed over.
	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	produce(`{"kind":"GatewayGroup","metadata":{"name":"`+marker+`"}}`, `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"`+marker+`"},"spec":{}}`)
	waitFor(t, node, "/gateway/v2/group/"+marker, func(code int, _ string) bool { return code == 200 })
	code, body := adminCall(t, node, "GET", "/gateway/v2/service-account/"+name, "")
	if code != 200 || !strings.Contains(body, "LOCAL") {
		t.Fatalf("after invalid records the account reads %d %s; the valid version must stay", code, body)
	}
	// A tombstone deletes.
	produce(key, "")
	waitFor(t, node, "/gateway/v2/service-account/"+name, func(code int, _ string) bool { return code == 404 })
}

// TestConcurrentPutsConverge: two nodes write the same resource at once; both
// end with the same value, the one last in the topic.
func TestConcurrentPutsConverge(t *testing.T) {
	requireSingle(t)
	a, b := single.gateway, secondNode(t, single)
	name := fmt.Sprintf("race-%d", time.Now().UnixNano())
	var wg sync.WaitGroup
	for i, node := range []*server.Server{a, b, a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"%s"},"spec":{"members":[{"name":"writer-%d"}]}}`, name, i)
			if code, body := adminCall(t, node, "PUT", "/gateway/v2/group", doc); code != 200 {
				t.Errorf("PUT %d: %d %s", i, code, body)
			}
		}()
	}
	wg.Wait()
	var final string
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, fromA := adminCall(t, a, "GET", "/gateway/v2/group/"+name, "")
		_, fromB := adminCall(t, b, "GET", "/gateway/v2/group/"+name, "")
		if fromA == fromB && json.Valid([]byte(fromA)) && strings.Contains(fromA, "writer-") {
			final = fromA
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes disagree: A %s, B %s", fromA, fromB)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("both nodes hold %s", strings.TrimSpace(final))
}
