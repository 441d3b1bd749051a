package limitconnectionpolicy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/limits"
)

func chain(t *testing.T, config string) (*interceptor.Chain, *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.LimitConnectionPolicyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{Limits: limits.Local()})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "conns", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{}), ev
}

func TestActions(t *testing.T) {
	for _, c := range []struct {
		name, config, events string
		blocked              bool
		throttle             time.Duration
	}{
		{"block", `{"maximumConnectionsPerSecond":3}`, "BLOCK", true, 0},
		{"info", `{"maximumConnectionsPerSecond":3,"action":"INFO"}`, "INFO", false, 0},
		{"throttle", `{"maximumConnectionsPerSecond":3,"action":"THROTTLE"}`, "THROTTLE", false, 100 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, ev := chain(t, c.config)
			conn := &interceptor.Conn{VCluster: "passthrough", ClientIP: "127.0.0.1"}
			for range 3 {
				if call := ch.Connected(conn, time.Now()); call.Blocked() || call.Throttled() != 0 {
					t.Fatal("a connection within the limit was refused or throttled")
				}
			}
			call := ch.Connected(conn, time.Now())
			if call.Blocked() != c.blocked || call.Throttled() != c.throttle {
				t.Fatalf("blocked %v throttled %v, want %v %v", call.Blocked(), call.Throttled(), c.blocked, c.throttle)
			}
			if got := ev.Actions(); got != c.events {
				t.Errorf("events %q, want %q", got, c.events)
			}
		})
	}
}

// TestWindowSlides: a second later, connections are accepted again.
func TestWindowSlides(t *testing.T) {
	ch, _ := chain(t, `{"maximumConnectionsPerSecond":1}`)
	conn := &interceptor.Conn{VCluster: "passthrough"}
	ch.Connected(conn, time.Now())
	if !ch.Connected(conn, time.Now()).Blocked() {
		t.Fatal("second connection in the second accepted")
	}
	time.Sleep(1200 * time.Millisecond)
	if ch.Connected(conn, time.Now()).Blocked() {
		t.Fatal("a connection a second later was refused")
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("LimitConnectionPolicy")
	for config, field := range map[string]string{
		`{}`:                                "maximumConnectionsPerSecond",
		`{"maximumConnectionsPerSecond":0}`: "maximumConnectionsPerSecond",
		`{"maximumConnectionsPerSecond":5,"action":"OVERRIDE"}`: "action",
		`{"maximumConnectionsPerSecond":5,"throttleTimeMs":-5}`: "throttleTimeMs",
		`{"maximumConnectionsPerSecond":5,"groupId":"g"}`:       "groupId",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, field) {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
