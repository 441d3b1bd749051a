package consumerratelimitingpolicy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/limits"
)

func chain(t *testing.T, config string) (*interceptor.Chain, *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.ConsumerRateLimitingPolicyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{Limits: limits.Local()})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "rate", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{}), ev
}

// fetch runs a Fetch through ch whose response carries size record bytes.
func fetch(ch *interceptor.Chain, user string, size int) (*interceptor.Call, *kmsg.FetchResponse) {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough", Username: user}, req.Key(), 12, nil, time.Now())
	call.Request(req)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.SetVersion(12)
	tp := kmsg.NewFetchResponseTopic()
	tp.Topic = "orders"
	pt := kmsg.NewFetchResponseTopicPartition()
	pt.RecordBatches = make([]byte, size)
	tp.Partitions = append(tp.Partitions, pt)
	resp.Topics = append(resp.Topics, tp)
	call.Response(resp)
	return call, resp
}

func TestActions(t *testing.T) {
	for _, c := range []struct {
		name, config, events string
		throttle             time.Duration
	}{
		{"block throttles", `{"maximumBytesPerSecond":1000}`, "THROTTLE", 200 * time.Millisecond},
		{"info", `{"maximumBytesPerSecond":1000,"action":"INFO"}`, "INFO", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, ev := chain(t, c.config)
			if call, _ := fetch(ch, "alice", 0); call.Throttled() != 0 {
				t.Fatal("an empty fetch was throttled")
			}
			if call, _ := fetch(ch, "alice", 1000); call.Throttled() != 0 {
				t.Fatal("a fetch within the limit was throttled")
			}
			call, resp := fetch(ch, "alice", 200)
			if len(resp.Topics[0].Partitions[0].RecordBatches) != 200 {
				t.Fatal("records of a fetch over the limit were dropped")
			}
			if call.Throttled() != c.throttle || time.Duration(resp.ThrottleMillis)*time.Millisecond != c.throttle {
				t.Errorf("throttle %v (response %dms), want %v", call.Throttled(), resp.ThrottleMillis, c.throttle)
			}
			if got := ev.Actions(); got != c.events {
				t.Errorf("events %q, want %q", got, c.events)
			}
		})
	}
}

// TestBucketPerPrincipal: each user has the whole limit.
func TestBucketPerPrincipal(t *testing.T) {
	ch, _ := chain(t, `{"maximumBytesPerSecond":1000}`)
	fetch(ch, "alice", 1000)
	if call, _ := fetch(ch, "bob", 1000); call.Throttled() != 0 {
		t.Fatal("bob was throttled for alice's bytes")
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("ConsumerRateLimitingPolicy")
	for config, field := range map[string]string{
		`{}`:                          "maximumBytesPerSecond",
		`{"maximumBytesPerSecond":0}`: "maximumBytesPerSecond",
		`{"maximumBytesPerSecond":10,"action":"OVERRIDE"}`: "action",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, field) {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
