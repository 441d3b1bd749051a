package clientidrequiredpolicy

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

func TestClientID(t *testing.T) {
	for _, c := range []struct {
		name, config string
		key          int16
		id           *string
		refused      bool
		action       interceptor.Action // reported, "" for none
		want         string             // client id forwarded, a regexp
	}{
		{"matches", `{"namingConvention":"app-.*"}`, 3, kmsg.StringPtr("app-1"), false, "", "app-1"},
		{"refused", `{"namingConvention":"app-.*"}`, 3, kmsg.StringPtr("rdkafka"), true, interceptor.Block, ""},
		{"absent refused by default", `{}`, 0, nil, true, interceptor.Block, ""},
		{"empty refused by default", `{}`, 0, kmsg.StringPtr(""), true, interceptor.Block, ""},
		{"any present id by default", `{}`, 0, kmsg.StringPtr("x"), false, "", "x"},
		{"INFO", `{"namingConvention":"app-.*","action":"INFO"}`, 1, kmsg.StringPtr("kgo"), false, interceptor.Info, "kgo"},
		{"OVERRIDE", `{"namingConvention":"app-.*","action":"OVERRIDE","clientIdTemplate":"{{vcluster}}-{{clientId}}-{{apiKey}}"}`,
			1, kmsg.StringPtr("kgo"), false, interceptor.Override, "passthrough-kgo-Fetch"},
		{"OVERRIDE with uuid", `{"namingConvention":"app-.*","action":"OVERRIDE","clientIdTemplate":"anon-{{uuid}}"}`,
			1, nil, false, interceptor.Override, "anon-[A-Z0-9]{26}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.ClientIdRequiredPolicyPlugin")
			if !ok {
				t.Fatal("no alias")
			}
			inst, err := p.New(json.RawMessage(c.config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			rec := &interceptortest.Events{}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "c", Plugin: p.Name, Priority: 1, Interceptor: inst}}, rec, interceptor.Node{})
			if !ch.Intercepts(c.key) {
				t.Fatalf("key %d not subscribed", c.key)
			}
			req := kmsg.RequestForKey(c.key)
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, c.key, 4, c.id, time.Now())
			if refused := !call.Request(req); refused != c.refused {
				t.Fatalf("refused = %v, want %v", refused, c.refused)
			}
			if c.refused {
				resp := call.Refusal(req)
				if m, ok := resp.(*kmsg.MetadataResponse); ok && len(m.Topics) > 0 && m.Topics[0].ErrorCode != kerr.PolicyViolation.Code {
					t.Errorf("refusal %+v", m)
				}
			}
			ev := rec.List()
			if len(ev) > 1 || (len(ev) == 1) != (c.action != "") || (len(ev) == 1 && ev[0].Action != c.action) {
				t.Errorf("events %+v, want %s", ev, c.action)
			}
			if !c.refused && (call.ClientID == nil || !regexp.MustCompile("^"+c.want+"$").MatchString(*call.ClientID)) {
				t.Errorf("client id %v, want %s", call.ClientID, c.want)
			}
		})
	}
}

// TestApiVersionsLeftAlone checks the one key the policy does not see.
func TestApiVersionsLeftAlone(t *testing.T) {
	p, _ := interceptor.Lookup("ClientIdRequiredPolicy")
	inst, err := p.New(json.RawMessage(`{}`), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "c", Plugin: p.Name, Interceptor: inst}}, nil, interceptor.Node{})
	if ch.Intercepts(kmsg.ApiVersions.Int16()) {
		t.Error("ApiVersions is intercepted")
	}
	if !ch.Intercepts(kmsg.MaxKey) {
		t.Error("the highest key is not intercepted")
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("ClientIdRequiredPolicy")
	for config, field := range map[string]string{
		`{"action":"OVERRIDE"}`:                                   "clientIdTemplate",
		`{"action":"THROTTLE"}`:                                   "action",
		`{"namingConvention":"("}`:                                "namingConvention",
		`{"clientIdTemplate":"{{hostname}}","action":"OVERRIDE"}`: "clientIdTemplate",
		`{"template":"x"}`:                                        "template",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
