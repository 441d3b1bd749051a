package simulateslowbroker

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		req          kmsg.Request
		rolls        []int
		want         time.Duration
	}{
		{"produce, shortest", `{"rateInPercent":100,"minLatencyMs":200,"maxLatencyMs":500}`, kmsg.NewPtrProduceRequest(), []int{99, 0}, 200 * time.Millisecond},
		{"fetch, longest", `{"rateInPercent":100,"minLatencyMs":200,"maxLatencyMs":500}`, kmsg.NewPtrFetchRequest(), []int{0, 300}, 500 * time.Millisecond},
		{"within rate", `{"rateInPercent":25,"maxLatencyMs":50}`, kmsg.NewPtrProduceRequest(), []int{24, 7}, 7 * time.Millisecond},
		{"outside rate", `{"rateInPercent":25,"maxLatencyMs":50}`, kmsg.NewPtrProduceRequest(), []int{25}, 0},
		{"fixed", `{"rateInPercent":100,"minLatencyMs":80,"maxLatencyMs":80}`, kmsg.NewPtrFetchRequest(), []int{0, 0}, 80 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.SimulateSlowBrokerPlugin")
			if !ok {
				t.Fatal("the Conduktor class name is not an alias")
			}
			inst, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			c := inst.(*chaos)
			rolls := tc.rolls
			c.roll = func(n int) int {
				if len(rolls) == 0 || rolls[0] >= n {
					t.Fatalf("unexpected draw in [0, %d), left %v", n, rolls)
				}
				r := rolls[0]
				rolls = rolls[1:]
				return r
			}
			ev := &interceptortest.Events{}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "slow", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
			if !ch.Intercepts(tc.req.Key()) {
				t.Fatalf("%s is not intercepted", kmsg.NameForKey(tc.req.Key()))
			}
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, tc.req.Key(), 9, nil, time.Now())
			if !call.Request(tc.req) {
				t.Fatal("the request was refused")
			}
			if call.Delayed() != tc.want || len(rolls) != 0 {
				t.Fatalf("delay %v (draws left %v), want %v", call.Delayed(), rolls, tc.want)
			}
			if call.HasResponse() {
				t.Error("the response is decoded for nothing")
			}
			resp := tc.req.ResponseKind()
			call.Response(resp)
			if th, _ := resp.(interface{ Throttle() (int32, bool) }).Throttle(); th != 0 || call.Throttled() != 0 {
				t.Errorf("throttle time %d ms: a slow broker is not a quota", th)
			}
			if len(ev.List()) != 0 {
				t.Errorf("events %v", ev.List())
			}
		})
	}
}

func TestOtherKeysUntouched(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateSlowBroker")
	inst, err := p.New(json.RawMessage(`{"rateInPercent":100,"maxLatencyMs":10}`), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "slow", Plugin: p.Name, Interceptor: inst}}, nil, interceptor.Node{})
	for _, k := range []int16{kmsg.Metadata.Int16(), kmsg.ListOffsets.Int16(), kmsg.OffsetCommit.Int16()} {
		if ch.Intercepts(k) {
			t.Errorf("%s is intercepted", kmsg.NameForKey(k))
		}
	}
}

func TestConfigValidation(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateSlowBroker")
	for _, tc := range []struct{ config, field string }{
		{`{"maxLatencyMs":10}`, "rateInPercent"},
		{`{"rateInPercent":101,"maxLatencyMs":10}`, "rateInPercent"},
		{`{"rateInPercent":50}`, "maxLatencyMs"},
		{`{"rateInPercent":50,"minLatencyMs":-1,"maxLatencyMs":10}`, "minLatencyMs"},
		{`{"rateInPercent":50,"minLatencyMs":20,"maxLatencyMs":10}`, "maxLatencyMs"},
		{`{"rateInPercent":50,"maxLatencyMs":"10"}`, "maxLatencyMs"},
		{`{"rateInPercent":50,"maxLatencyMs":10,"topic":"x"}`, "topic"},
	} {
		_, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.config, err, tc.field)
		}
	}
}
