package fetchpolicy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

// ids resolves topic ids as the gateway's metadata cache does.
type ids map[[16]byte]string

func (m ids) TopicName(id [16]byte) (string, bool) { n, ok := m[id]; return n, ok }

func fetch(topic string, id [16]byte, change func(*kmsg.FetchRequest)) *kmsg.FetchRequest {
	r := kmsg.NewPtrFetchRequest()
	r.MaxWaitMillis, r.MinBytes, r.MaxBytes = 500, 1, 50<<20
	t := kmsg.NewFetchRequestTopic()
	t.Topic, t.TopicID = topic, id
	t.Partitions = append(t.Partitions, kmsg.NewFetchRequestTopicPartition())
	r.Topics = append(r.Topics, t)
	if change != nil {
		change(r)
	}
	return r
}

func TestRules(t *testing.T) {
	id := [16]byte{1}
	for _, c := range []struct {
		name, config string
		version      int16
		req          *kmsg.FetchRequest
		refused      bool
		events       string
	}{
		{"read_uncommitted refused", `{"isolationLevel":{"value":"read_committed"}}`, 12, fetch("a", id, nil), true, "BLOCK:a"},
		{"read_committed passes", `{"isolationLevel":{"value":"READ_COMMITTED"}}`, 12,
			fetch("a", id, func(r *kmsg.FetchRequest) { r.IsolationLevel = 1 }), false, ""},
		{"isolation INFO", `{"isolationLevel":{"value":"read_committed","action":"INFO"}}`, 12, fetch("a", id, nil), false, "INFO:a"},
		{"topic by id outside the pattern", `{"topic":"pay-.*","isolationLevel":{"value":"read_committed"}}`, 13, fetch("", id, nil), false, ""},
		{"topic by id inside the pattern", `{"topic":"pay-.*","isolationLevel":{"value":"read_committed"}}`, 13, fetch("", [16]byte{2}, nil), true, "BLOCK:pay-eu"},
		{"rack required", `{"rackIdRequired":{"value":true}}`, 12, fetch("a", id, nil), true, "BLOCK:a"},
		{"rack given", `{"rackIdRequired":{"value":true}}`, 12, fetch("a", id, func(r *kmsg.FetchRequest) { r.Rack = "eu-1a" }), false, ""},
		{"max bytes", `{"fetchMaxBytes":{"max":1048576}}`, 12, fetch("a", id, nil), true, "BLOCK:a"},
		{"min bytes", `{"fetchMinBytes":{"min":1024}}`, 12, fetch("a", id, nil), true, "BLOCK:a"},
		{"max wait", `{"maxWaitMs":{"min":100,"max":1000}}`, 12, fetch("a", id, nil), false, ""},
		{"version", `{"version":{"min":13}}`, 12, fetch("a", id, nil), true, "BLOCK:a"},
		{"session fetch without topics", `{"isolationLevel":{"value":"read_committed"}}`, 12,
			fetch("a", id, func(r *kmsg.FetchRequest) { r.Topics = nil }), true, "BLOCK:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.FetchPolicyPlugin")
			if !ok {
				t.Fatal("no alias")
			}
			inst, err := p.New(json.RawMessage(c.config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			ev := &interceptortest.Events{}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "f", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
			c.req.SetVersion(c.version)
			conn := &interceptor.Conn{VCluster: "passthrough", Topics: ids{id: "a", [16]byte{2}: "pay-eu"}}
			call := ch.Begin(conn, c.req.Key(), c.version, nil, time.Now())
			if refused := !call.Request(c.req); refused != c.refused {
				t.Fatalf("refused = %v, want %v", refused, c.refused)
			}
			if c.refused {
				// Partitions carry the refusal; the top-level code is
				// about fetch sessions, which clients retry silently.
				resp := call.Refusal(c.req).(*kmsg.FetchResponse)
				if resp.ErrorCode != 0 {
					t.Errorf("fetch session error %d", resp.ErrorCode)
				}
				for _, rt := range resp.Topics {
					for _, rp := range rt.Partitions {
						if rp.ErrorCode != kerr.PolicyViolation.Code {
							t.Errorf("partition %d refused with %d", rp.Partition, rp.ErrorCode)
						}
					}
				}
			}
			if got := ev.String(); got != c.events {
				t.Errorf("events %q, want %q", got, c.events)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("FetchPolicy")
	for config, field := range map[string]string{
		`{"isolationLevel":{"value":"serializable"}}`:                       "isolationLevel.value",
		`{"isolationLevel":{"value":"read_committed","action":"OVERRIDE"}}`: "isolationLevel.action",
		`{"fetchMaxBytes":{"max":"big"}}`:                                   "fetchMaxBytes.max",
		`{"maxWaitMs":{"max":1,"action":"THROTTLE"}}`:                       "maxWaitMs.action",
		`{"rackId":{"value":true}}`:                                         "rackId",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
