package altertopicconfigpolicy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

// set is one incremental change: op, name, value.
type set struct {
	op          kmsg.IncrementalAlterConfigOp
	name, value string
}

// run passes an IncrementalAlterConfigs request changing topic "t" (and
// the broker "1", unchanged) through a chain of one AlterTopicConfigPolicy
// and a broker that applies whatever reaches it. It returns the forwarded
// topic configs (nil when refused) and the topic's answer.
func run(t *testing.T, config string, changes ...set) (forwarded []kmsg.IncrementalAlterConfigsRequestResourceConfig, code int16, ev *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.AlterTopicConfigPolicyPlugin")
	if !ok {
		t.Fatal("no alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev = &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "alter", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.SetVersion(1)
	res := kmsg.IncrementalAlterConfigsRequestResource{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t"}
	for _, c := range changes {
		res.Configs = append(res.Configs, kmsg.IncrementalAlterConfigsRequestResourceConfig{Op: c.op, Name: c.name, Value: kmsg.StringPtr(c.value)})
	}
	broker := kmsg.IncrementalAlterConfigsRequestResource{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "1",
		Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1")}}}
	req.Resources = append(req.Resources, res, broker)
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), 1, nil, time.Now())
	if !call.Request(req) {
		t.Fatal("whole request refused")
	}
	resp := interceptor.ErrorResponse(req, 0, "")
	call.Response(resp)
	code = -1
	for _, r := range resp.(*kmsg.IncrementalAlterConfigsResponse).Resources {
		if r.ResourceType == kmsg.ConfigResourceTypeTopic {
			code = r.ErrorCode
			if code != 0 && (r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "refused by gateway policy alter")) {
				t.Errorf("message %v", r.ErrorMessage)
			}
		}
	}
	for _, r := range req.Resources {
		if r.ResourceType == kmsg.ConfigResourceTypeTopic {
			forwarded = r.Configs
		}
	}
	if len(req.Resources) == 0 || req.Resources[len(req.Resources)-1].ResourceType != kmsg.ConfigResourceTypeBroker {
		t.Errorf("the broker resource was not forwarded")
	}
	return forwarded, code, ev
}

func TestRules(t *testing.T) {
	op := kmsg.IncrementalAlterConfigOpSet
	pv := kerr.PolicyViolation.Code
	for _, c := range []struct {
		name, config string
		changes      []set
		code         int16
		events       string
		value        string // the first forwarded value, when forwarded
	}{
		{"within bounds", `{"retentionMs":{"max":86400000}}`, []set{{op, "retention.ms", "3600000"}}, 0, "", "3600000"},
		{"out of bounds", `{"retentionMs":{"max":86400000}}`, []set{{op, "retention.ms", "604800000"}}, pv, "BLOCK:t", ""},
		{"INFO", `{"retentionMs":{"max":86400000,"action":"INFO"}}`, []set{{op, "retention.ms", "604800000"}}, 0, "INFO:t", "604800000"},
		{"OVERRIDE", `{"retentionMs":{"max":86400000,"action":"OVERRIDE","overrideValue":86400000}}`,
			[]set{{op, "retention.ms", "604800000"}}, 0, "OVERRIDE:t", "86400000"},
		{"outside the topic pattern", `{"topic":"orders-.*","retentionMs":{"max":1}}`, []set{{op, "retention.ms", "5"}}, 0, "", "5"},
		{"blacklisted", `{"blacklist":{"values":["min.insync.replicas"]}}`, []set{{op, "min.insync.replicas", "1"}}, pv, "BLOCK:t", ""},
		{"blacklisted deletion", `{"blacklist":{"values":["retention.ms"]}}`, []set{{kmsg.IncrementalAlterConfigOpDelete, "retention.ms", ""}}, pv, "BLOCK:t", ""},
		{"blacklist INFO", `{"blacklist":{"values":["segment.ms"],"action":"INFO"}}`, []set{{op, "segment.ms", "1"}}, 0, "INFO:t", "1"},
		{"append checked", `{"cleanupPolicy":{"values":["delete"]}}`, []set{{kmsg.IncrementalAlterConfigOpAppend, "cleanup.policy", "compact"}}, pv, "BLOCK:t", ""},
		{"subtract not checked", `{"cleanupPolicy":{"values":["delete"]}}`, []set{{kmsg.IncrementalAlterConfigOpSubtract, "cleanup.policy", "compact"}}, 0, "", "compact"},
		{"second config breaks", `{"retentionMs":{"max":10},"segmentMs":{"max":10}}`, []set{{op, "retention.ms", "5"}, {op, "segment.ms", "50"}}, pv, "BLOCK:t", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			forwarded, code, ev := run(t, c.config, c.changes...)
			if code != c.code {
				t.Fatalf("code %d, want %d", code, c.code)
			}
			if c.code != 0 && forwarded != nil {
				t.Errorf("refused resource forwarded: %+v", forwarded)
			}
			if c.code == 0 && (len(forwarded) == 0 || *forwarded[0].Value != c.value) {
				t.Errorf("forwarded %+v, want value %s", forwarded, c.value)
			}
			if got := ev.String(); got != c.events {
				t.Errorf("events %q, want %q", got, c.events)
			}
		})
	}
}

// TestLegacyAlterConfigs checks the AlterConfigs API, which names every
// config of the resource.
func TestLegacyAlterConfigs(t *testing.T) {
	p, _ := interceptor.Lookup("AlterTopicConfigPolicy")
	inst, err := p.New(json.RawMessage(`{"retentionMs":{"min":3600000}}`), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "alter", Plugin: p.Name, Interceptor: inst}}, ev, interceptor.Node{})
	req := kmsg.NewPtrAlterConfigsRequest()
	for _, n := range []string{"a", "b"} {
		v := "60000"
		if n == "b" {
			v = "7200000"
		}
		req.Resources = append(req.Resources, kmsg.AlterConfigsRequestResource{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: n,
			Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: &v}}})
	}
	call := ch.Begin(&interceptor.Conn{}, req.Key(), 1, nil, time.Now())
	call.Request(req)
	if len(req.Resources) != 1 || req.Resources[0].ResourceName != "b" {
		t.Fatalf("forwarded %+v", req.Resources)
	}
	resp := interceptor.ErrorResponse(req, 0, "")
	call.Response(resp)
	got := map[string]int16{}
	for _, r := range resp.(*kmsg.AlterConfigsResponse).Resources {
		got[r.ResourceName] = r.ErrorCode
	}
	if got["a"] != kerr.PolicyViolation.Code || got["b"] != 0 || ev.String() != "BLOCK:a" {
		t.Errorf("codes %v, events %s", got, ev)
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("AlterTopicConfigPolicy")
	for config, field := range map[string]string{
		`{"blacklist":{"action":"BLOCK"}}`:                   "blacklist.values",
		`{"blacklist":{"values":["x"],"action":"OVERRIDE"}}`: "blacklist.action",
		`{"retentionMs":{"max":1,"action":"THROTTLE"}}`:      "retentionMs.action",
		`{"retentionMs":{"max":"1"}}`:                        "retentionMs.max",
		`{"numPartition":{"max":1}}`:                         "numPartition",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
