package consumergrouppolicy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

func join(group, member string, instance *string, session, rebalance int32) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Group, r.MemberID, r.InstanceID = group, member, instance
	r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = session, rebalance
	r.ProtocolType = "consumer"
	return r
}

func syncGroup(group, member string) *kmsg.SyncGroupRequest {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Group, r.MemberID = group, member
	return r
}

func TestRules(t *testing.T) {
	for _, c := range []struct {
		name, config string
		req          kmsg.Request
		code         int16 // of the refusal, 0 when the request goes on
		events       string
		check        func(kmsg.Request) bool
	}{
		{"group id matches", `{"groupId":{"value":"team-.*"}}`, join("team-a", "", nil, 45000, 300000), 0, "", nil},
		{"group id refused", `{"groupId":{"value":"team-.*"}}`, join("rogue", "", nil, 45000, 300000), kerr.InvalidGroupID.Code, "BLOCK:rogue", nil},
		{"group id refused on sync", `{"groupId":{"value":"team-.*"}}`, syncGroup("rogue", "m-1"), kerr.InvalidGroupID.Code, "BLOCK:rogue", nil},
		{"group id INFO", `{"groupId":{"value":"team-.*","action":"INFO"}}`, join("rogue", "", nil, 45000, 300000), 0, "INFO:rogue", nil},
		{"session timeout refused", `{"sessionTimeoutMs":{"max":30000}}`, join("g", "", nil, 45000, 300000), kerr.InvalidSessionTimeout.Code, "BLOCK:g", nil},
		{"session timeout overridden", `{"sessionTimeoutMs":{"max":30000,"action":"OVERRIDE","overrideValue":30000}}`,
			join("g", "", nil, 45000, 300000), 0, "OVERRIDE:g",
			func(r kmsg.Request) bool { return r.(*kmsg.JoinGroupRequest).SessionTimeoutMillis == 30000 }},
		{"rebalance timeout overridden", `{"rebalanceTimeoutMs":{"min":60000,"action":"OVERRIDE","overrideValue":60000}}`,
			join("g", "", nil, 45000, 1000), 0, "OVERRIDE:g",
			func(r kmsg.Request) bool { return r.(*kmsg.JoinGroupRequest).RebalanceTimeoutMillis == 60000 }},
		{"first join has no member id", `{"memberId":{"value":"app-.*"}}`, join("g", "", nil, 45000, 300000), 0, "", nil},
		{"member id refused", `{"memberId":{"value":"app-.*"}}`, join("g", "rdkafka-1", nil, 45000, 300000), kerr.PolicyViolation.Code, "BLOCK:g", nil},
		{"dynamic member", `{"groupInstanceId":{"value":"host-.*"}}`, join("g", "", nil, 45000, 300000), 0, "", nil},
		{"instance id refused", `{"groupInstanceId":{"value":"host-.*"}}`, join("g", "", kmsg.StringPtr("pod-1"), 45000, 300000), kerr.PolicyViolation.Code, "BLOCK:g", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.ConsumerGroupPolicyPlugin")
			if !ok {
				t.Fatal("no alias")
			}
			inst, err := p.New(json.RawMessage(c.config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			ev := &interceptortest.Events{}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "g", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
			c.req.SetVersion(5)
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, c.req.Key(), 5, nil, time.Now())
			forwarded := call.Request(c.req)
			switch {
			case c.code == 0 && !forwarded:
				t.Fatal("refused")
			case c.code != 0 && forwarded:
				t.Fatal("forwarded")
			case c.code != 0:
				resp := call.Refusal(c.req)
				var got int16
				switch r := resp.(type) {
				case *kmsg.JoinGroupResponse:
					got = r.ErrorCode
				case *kmsg.SyncGroupResponse:
					got = r.ErrorCode
				}
				if got != c.code {
					t.Errorf("code %d, want %d", got, c.code)
				}
			}
			if got := ev.String(); got != c.events {
				t.Errorf("events %q, want %q", got, c.events)
			}
			if c.check != nil && !c.check(c.req) {
				t.Errorf("forwarded %+v", c.req)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("ConsumerGroupPolicy")
	for config, field := range map[string]string{
		`{"groupId":{"action":"BLOCK"}}`:                       "groupId.value",
		`{"groupId":{"value":"x","action":"OVERRIDE"}}`:        "groupId.action",
		`{"memberId":{"value":"("}}`:                           "memberId.value",
		`{"sessionTimeoutMs":{"max":1,"action":"OVERRIDE"}}`:   "sessionTimeoutMs.overrideValue",
		`{"rebalanceTimeoutMs":{"max":1,"action":"THROTTLE"}}`: "rebalanceTimeoutMs.action",
		`{"sessionTimeout":{"max":1}}`:                         "sessionTimeout",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
