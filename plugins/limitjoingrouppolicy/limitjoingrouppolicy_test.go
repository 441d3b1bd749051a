package limitjoingrouppolicy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/limits"
)

func chain(t *testing.T, config string) (*interceptor.Chain, *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.LimitJoinGroupPolicyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{Limits: limits.Local()})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "joins", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{}), ev
}

func join(ch *interceptor.Chain, vcluster, group string) (*interceptor.Call, *kmsg.JoinGroupResponse) {
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(7)
	req.Group, req.ProtocolType = group, "consumer"
	call := ch.Begin(&interceptor.Conn{VCluster: vcluster}, req.Key(), 7, nil, time.Now())
	if call.Request(req) {
		return call, nil
	}
	return call, call.Refusal(req).(*kmsg.JoinGroupResponse)
}

func TestActions(t *testing.T) {
	for _, c := range []struct {
		name, config, group, events string
		blocked                     bool
		throttle                    time.Duration
	}{
		{"block", `{"maximumJoinsPerMinute":1}`, "g", "BLOCK", true, 0},
		{"info", `{"maximumJoinsPerMinute":1,"action":"INFO"}`, "g", "INFO", false, 0},
		{"throttle", `{"maximumJoinsPerMinute":1,"action":"THROTTLE","throttleTimeMs":300}`, "g", "THROTTLE", false, 300 * time.Millisecond},
		{"other group", `{"groupId":"batch-.*","maximumJoinsPerMinute":1}`, "g", "", false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, ev := chain(t, c.config)
			if call, refused := join(ch, "passthrough", c.group); refused != nil || call.Throttled() != 0 {
				t.Fatal("a join within the limit was refused or throttled")
			}
			call, refused := join(ch, "passthrough", c.group)
			if (refused != nil) != c.blocked {
				t.Fatalf("second join refused: %v, want %v", refused != nil, c.blocked)
			}
			if refused != nil && refused.ErrorCode != kerr.PolicyViolation.Code {
				t.Errorf("error code %d, want POLICY_VIOLATION", refused.ErrorCode)
			}
			if call.Throttled() != c.throttle {
				t.Errorf("throttle %v, want %v", call.Throttled(), c.throttle)
			}
			if got := ev.Actions(); got != c.events {
				t.Errorf("events %q, want %q", got, c.events)
			}
		})
	}
}

// TestBucketPerVirtualCluster: the same group id in two virtual clusters
// is two groups.
func TestBucketPerVirtualCluster(t *testing.T) {
	ch, _ := chain(t, `{"maximumJoinsPerMinute":1}`)
	join(ch, "a", "g")
	if _, refused := join(ch, "b", "g"); refused != nil {
		t.Fatal("virtual clusters share a group's count")
	}
	if _, refused := join(ch, "a", "g"); refused == nil {
		t.Fatal("second join in a admitted")
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("LimitJoinGroupPolicy")
	for config, field := range map[string]string{
		`{}`:                           "maximumJoinsPerMinute",
		`{"maximumJoinsPerMinute":-3}`: "maximumJoinsPerMinute",
		`{"maximumJoinsPerMinute":5,"action":"OVERRIDE"}`: "action",
		`{"maximumJoinsPerMinute":5,"throttleTimeMs":-1}`: "throttleTimeMs",
		`{"maximumJoinsPerMinute":5,"groupId":"["}`:       "groupId",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, field) {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
