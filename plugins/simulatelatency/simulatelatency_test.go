package simulatelatency

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

func newChain(t *testing.T, config string, rolls *[]int) *interceptor.Chain {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.SimulateLatencyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	inst.(*chaos).roll = func(n int) int {
		if len(*rolls) == 0 || (*rolls)[0] >= n {
			t.Fatalf("unexpected draw in [0, %d), left %v", n, *rolls)
		}
		r := (*rolls)[0]
		*rolls = (*rolls)[1:]
		return r
	}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "latency", Plugin: p.Name, Priority: 1, Interceptor: inst}}, nil, interceptor.Node{})
}

func TestEveryKeyDelayed(t *testing.T) {
	var rolls []int
	ch := newChain(t, `{"appliedPercentage":100,"latencyMs":150}`, &rolls)
	for k := int16(0); k <= kmsg.MaxKey; k++ {
		req := kmsg.RequestForKey(k)
		if req == nil {
			continue
		}
		switch k {
		case kmsg.ApiVersions.Int16(), kmsg.SASLHandshake.Int16(), kmsg.SASLAuthenticate.Int16():
			if ch.Intercepts(k) {
				t.Errorf("%s is intercepted", kmsg.NameForKey(k))
			}
			continue
		}
		rolls = []int{99}
		call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, k, 0, nil, time.Now())
		if !call.Request(req) {
			t.Fatalf("%s refused", kmsg.NameForKey(k))
		}
		if call.Delayed() != 150*time.Millisecond || len(rolls) != 0 {
			t.Fatalf("%s delayed by %v, want 150ms", kmsg.NameForKey(k), call.Delayed())
		}
		if call.HasResponse() {
			t.Fatalf("%s response decoded for nothing", kmsg.NameForKey(k))
		}
	}
}

func TestRate(t *testing.T) {
	rolls := []int{9, 10, 0, 50}
	ch := newChain(t, `{"appliedPercentage":10,"latencyMs":40}`, &rolls)
	var got []time.Duration
	for range 4 {
		call := ch.Begin(&interceptor.Conn{}, kmsg.Metadata.Int16(), 12, nil, time.Now())
		call.Request(kmsg.NewPtrMetadataRequest())
		got = append(got, call.Delayed())
	}
	want := []time.Duration{40 * time.Millisecond, 0, 40 * time.Millisecond, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateLatency")
	for _, tc := range []struct{ config, field string }{
		{`{"latencyMs":10}`, "appliedPercentage"},
		{`{"appliedPercentage":150,"latencyMs":10}`, "appliedPercentage"},
		{`{"appliedPercentage":50}`, "latencyMs"},
		{`{"appliedPercentage":50,"latencyMs":-1}`, "latencyMs"},
		{`{"appliedPercentage":50,"latencyMs":10,"rateInPercent":5}`, "rateInPercent"},
	} {
		_, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.config, err, tc.field)
		}
	}
}
