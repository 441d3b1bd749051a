package limitcommitoffsetpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/limits"
	"github.com/strait-gateway/strait/store"
)

func chain(t *testing.T, config string, lim interceptor.Limits) (*interceptor.Chain, *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.LimitCommitOffsetPolicyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "commits", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{}), ev
}

// commit runs one OffsetCommit of group through ch and returns the call
// and the answer the gateway gives when the chain refuses it.
func commit(ch *interceptor.Chain, group string) (*interceptor.Call, *kmsg.OffsetCommitResponse) {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.SetVersion(8)
	req.Group = group
	tp := kmsg.NewOffsetCommitRequestTopic()
	tp.Topic = "orders"
	pt := kmsg.NewOffsetCommitRequestTopicPartition()
	tp.Partitions = append(tp.Partitions, pt)
	req.Topics = append(req.Topics, tp)
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), 8, nil, time.Now())
	if call.Request(req) {
		return call, nil
	}
	return call, call.Refusal(req).(*kmsg.OffsetCommitResponse)
}

func TestActions(t *testing.T) {
	for _, c := range []struct {
		name, config string
		group        string
		events       string
		blocked      bool
		throttle     time.Duration
	}{
		{"block", `{"maximumCommitsPerMinute":2}`, "g", "BLOCK", true, 0},
		{"info", `{"maximumCommitsPerMinute":2,"action":"INFO"}`, "g", "INFO", false, 0},
		{"throttle default", `{"maximumCommitsPerMinute":2,"action":"THROTTLE"}`, "g", "THROTTLE", false, 100 * time.Millisecond},
		{"throttle", `{"maximumCommitsPerMinute":2,"action":"THROTTLE","throttleTimeMs":750}`, "g", "THROTTLE", false, 750 * time.Millisecond},
		{"other group", `{"groupId":"payments-.*","maximumCommitsPerMinute":2}`, "orders-app", "", false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, ev := chain(t, c.config, limits.Local())
			for range 2 {
				if call, refused := commit(ch, c.group); refused != nil || call.Throttled() != 0 {
					t.Fatal("a commit within the limit was refused or throttled")
				}
			}
			call, refused := commit(ch, c.group)
			if (refused != nil) != c.blocked {
				t.Fatalf("third commit refused: %v, want %v", refused != nil, c.blocked)
			}
			if refused != nil {
				code := refused.Topics[0].Partitions[0].ErrorCode
				if code != kerr.PolicyViolation.Code {
					t.Errorf("error code %d, want POLICY_VIOLATION", code)
				}
			}
			if call.Throttled() != c.throttle {
				t.Errorf("throttle %v, want %v", call.Throttled(), c.throttle)
			}
			if ev.Actions() != c.events {
				t.Errorf("events %q, want %q", ev.Actions(), c.events)
			}
		})
	}
}

// TestBucketPerGroup: each group has its own count.
func TestBucketPerGroup(t *testing.T) {
	ch, _ := chain(t, `{"maximumCommitsPerMinute":1}`, limits.Local())
	if _, refused := commit(ch, "a"); refused != nil {
		t.Fatal("first commit of a refused")
	}
	if _, refused := commit(ch, "b"); refused != nil {
		t.Fatal("first commit of b refused: groups share a count")
	}
	if _, refused := commit(ch, "a"); refused == nil {
		t.Fatal("second commit of a admitted")
	}
}

// TestWithoutLimits: with no limits in the Env the policy counts per node.
func TestWithoutLimits(t *testing.T) {
	ch, ev := chain(t, `{"maximumCommitsPerMinute":1}`, nil)
	commit(ch, "g")
	if _, refused := commit(ch, "g"); refused == nil || ev.Actions() != "BLOCK" {
		t.Fatal("the node-local fallback does not limit")
	}
}

// TestAcrossNodes: two nodes' chains, each with its own limits on one
// backing cluster, share the group's count.
func TestAcrossNodes(t *testing.T) {
	kf, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	var chains []*interceptor.Chain
	for _, node := range []string{"a", "b"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		l, err := limits.Start(ctx, []kgo.Opt{kgo.SeedBrokers(kf.ListenAddrs()...)}, limits.Config{
			Node: node, Store: store.Config{Topic: "_strait_t_limits"}, Interval: 20 * time.Millisecond})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close(context.Background())
		ch, _ := chain(t, `{"maximumCommitsPerMinute":3}`, l)
		chains = append(chains, ch)
	}
	for range 3 {
		if _, refused := commit(chains[0], "g"); refused != nil {
			t.Fatal("node a refused a commit within the limit")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, refused := commit(chains[1], "g")
		if refused != nil {
			return // b saw a's three commits
		}
		if time.Now().After(deadline) {
			t.Fatal("node b never counted node a's commits")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("LimitCommitOffsetPolicy")
	for config, field := range map[string]string{
		`{}`:                            "maximumCommitsPerMinute",
		`{"maximumCommitsPerMinute":0}`: "maximumCommitsPerMinute",
		`{"maximumCommitsPerMinute":5,"action":"OVERRIDE"}`:       "action",
		`{"maximumCommitsPerMinute":5,"throttleTimeMs":-1}`:       "throttleTimeMs",
		`{"maximumCommitsPerMinute":5,"groupId":"("}`:             "groupId",
		`{"maximumCommitsPerMinute":"5"}`:                         "maximumCommitsPerMinute",
		`{"maximumCommitsPerMinute":5,"maximumJoinsPerMinute":1}`: "maximumJoinsPerMinute",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, field) {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
