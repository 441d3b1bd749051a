package alterbrokerconfigpolicy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

func TestRules(t *testing.T) {
	pv := kerr.PolicyViolation.Code
	for _, c := range []struct {
		name, config, key, value string
		typ                      kmsg.ConfigResourceType
		code                     int16
		action                   interceptor.Action
		forwarded                string
	}{
		{"within bounds", `{"logRetentionMs":{"max":604800000}}`, "log.retention.ms", "86400000", kmsg.ConfigResourceTypeBroker, 0, "", "86400000"},
		{"out of bounds", `{"logRetentionMs":{"max":604800000}}`, "log.retention.ms", "6048000000", kmsg.ConfigResourceTypeBroker, pv, interceptor.Block, ""},
		{"segment INFO", `{"logSegmentBytes":{"min":1048576,"action":"INFO"}}`, "log.segment.bytes", "1024", kmsg.ConfigResourceTypeBroker, 0, interceptor.Info, "1024"},
		{"bytes OVERRIDE", `{"logRetentionBytes":{"max":1073741824,"action":"OVERRIDE","overrideValue":1073741824}}`,
			"log.retention.bytes", "-1", kmsg.ConfigResourceTypeBroker, 0, "", "-1"},
		{"bytes OVERRIDE above", `{"logRetentionBytes":{"max":1073741824,"action":"OVERRIDE","overrideValue":1073741824}}`,
			"log.retention.bytes", "5368709120", kmsg.ConfigResourceTypeBroker, 0, interceptor.Override, "1073741824"},
		{"blacklisted", `{"blacklist":{"values":["log.cleaner.threads"]}}`, "log.cleaner.threads", "8", kmsg.ConfigResourceTypeBroker, pv, interceptor.Block, ""},
		{"topic resources are not broker ones", `{"blacklist":{"values":["retention.ms"]}}`, "retention.ms", "1", kmsg.ConfigResourceTypeTopic, 0, "", "1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.AlterBrokerConfigPolicyPlugin")
			if !ok {
				t.Fatal("no alias")
			}
			inst, err := p.New(json.RawMessage(c.config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			rec := &interceptortest.Events{}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "b", Plugin: p.Name, Priority: 1, Interceptor: inst}}, rec, interceptor.Node{})
			req := kmsg.NewPtrIncrementalAlterConfigsRequest()
			req.Resources = []kmsg.IncrementalAlterConfigsRequestResource{{ResourceType: c.typ, ResourceName: "1",
				Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: c.key, Value: kmsg.StringPtr(c.value)}}}}
			call := ch.Begin(&interceptor.Conn{}, req.Key(), 1, nil, time.Now())
			call.Request(req)
			resp := interceptor.ErrorResponse(req, 0, "")
			call.Response(resp)
			rs := resp.(*kmsg.IncrementalAlterConfigsResponse).Resources
			if len(rs) != 1 || rs[0].ErrorCode != c.code {
				t.Fatalf("answers %+v, want code %d", rs, c.code)
			}
			if c.code == 0 && *req.Resources[0].Configs[0].Value != c.forwarded {
				t.Errorf("forwarded %s, want %s", *req.Resources[0].Configs[0].Value, c.forwarded)
			}
			ev := rec.List()
			if (len(ev) == 1) != (c.action != "") || len(ev) > 1 || (len(ev) == 1 && ev[0].Action != c.action) {
				t.Errorf("events %+v, want %s", ev, c.action)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("AlterBrokerConfigPolicy")
	for config, field := range map[string]string{
		`{"blacklist":{"values":[]}}`:                      "blacklist.values",
		`{"logRetentionMs":{"max":1,"action":"THROTTLE"}}`: "logRetentionMs.action",
		`{"logSegmentBytes":{"min":2,"max":1}}`:            "logSegmentBytes",
		`{"retentionMs":{"max":1}}`:                        "retentionMs",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
