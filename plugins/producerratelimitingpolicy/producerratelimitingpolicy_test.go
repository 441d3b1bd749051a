package producerratelimitingpolicy

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
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.ProducerRateLimitingPolicyPlugin")
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

// produce runs a Produce of size record bytes for user through ch and the
// response a broker would give; it returns the call and the response.
func produce(ch *interceptor.Chain, user string, size int) (*interceptor.Call, *kmsg.ProduceResponse) {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	tp := kmsg.NewProduceRequestTopic()
	tp.Topic = "orders"
	pt := kmsg.NewProduceRequestTopicPartition()
	pt.Records = make([]byte, size)
	tp.Partitions = append(tp.Partitions, pt)
	req.Topics = append(req.Topics, tp)
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough", Username: user}, req.Key(), 9, nil, time.Now())
	if !call.Request(req) {
		return call, nil
	}
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
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
			if call, resp := produce(ch, "alice", 600); resp == nil || call.Throttled() != 0 {
				t.Fatal("a produce within the limit was refused or throttled")
			}
			call, resp := produce(ch, "alice", 600)
			if resp == nil {
				t.Fatal("a produce over the limit was refused; its records must go through")
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
	produce(ch, "alice", 900)
	if call, _ := produce(ch, "bob", 900); call.Throttled() != 0 {
		t.Fatal("bob was throttled for alice's bytes")
	}
	if call, _ := produce(ch, "alice", 200); call.Throttled() == 0 {
		t.Fatal("alice was not throttled over her limit")
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("ProducerRateLimitingPolicy")
	for config, field := range map[string]string{
		`{}`:                           "maximumBytesPerSecond",
		`{"maximumBytesPerSecond":-1}`: "maximumBytesPerSecond",
		`{"maximumBytesPerSecond":10,"action":"THROTTLE"}`: "action",
		`{"maximumBytesPerSecond":10,"throttleTimeMs":5}`:  "throttleTimeMs",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, field) {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
