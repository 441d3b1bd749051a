package simulatebrokenbrokers

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

func newInstance(t *testing.T, config string) *chaos {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.SimulateBrokenBrokersPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*chaos)
}

func chain(inst interceptor.Interceptor, ev *interceptortest.Events) *interceptor.Chain {
	return interceptor.NewChain(1, []interceptor.Step{{Name: "broken", Plugin: "SimulateBrokenBrokers", Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
}

func produce() *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	t := kmsg.NewProduceRequestTopic()
	t.Topic = "orders"
	for i := range int32(2) {
		p := kmsg.NewProduceRequestTopicPartition()
		p.Partition = i
		t.Partitions = append(t.Partitions, p)
	}
	req.Topics = append(req.Topics, t)
	return req
}

func fetch() *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	t := kmsg.NewFetchRequestTopic()
	t.Topic = "orders"
	p := kmsg.NewFetchRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		req          kmsg.Request
		want         int16 // 0: forwarded
	}{
		{"default produce", `{"rateInPercent":100}`, produce(), kerr.CorruptMessage.Code},
		{"default fetch", `{"rateInPercent":100}`, fetch(), kerr.UnknownServerError.Code},
		{"configured produce", `{"rateInPercent":100,"errorMap":{"PRODUCE":"NOT_LEADER_OR_FOLLOWER"}}`, produce(), kerr.NotLeaderForPartition.Code},
		{"lower case", `{"rateInPercent":100,"errorMap":{"fetch":"offset_out_of_range"}}`, fetch(), kerr.OffsetOutOfRange.Code},
		{"fetch left out of the map", `{"rateInPercent":100,"errorMap":{"PRODUCE":"INVALID_RECORD"}}`, fetch(), 0},
		{"rate 0", `{"rateInPercent":0}`, produce(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := &interceptortest.Events{}
			ch := chain(newInstance(t, tc.config), ev)
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, tc.req.Key(), tc.req.GetVersion(), nil, time.Now())
			forwarded := !ch.Intercepts(tc.req.Key()) || call.Request(tc.req)
			if tc.want == 0 {
				if !forwarded || len(ev.List()) != 0 {
					t.Fatalf("forwarded %v, events %v; want forwarded untouched", forwarded, ev.List())
				}
				return
			}
			if forwarded {
				t.Fatal("the request was forwarded")
			}
			resp := call.Refusal(tc.req)
			call.Response(resp)
			var codes []int16
			switch r := resp.(type) {
			case *kmsg.ProduceResponse:
				for _, p := range r.Topics[0].Partitions {
					codes = append(codes, p.ErrorCode)
				}
				if len(codes) != 2 || r.Topics[0].Topic != "orders" {
					t.Fatalf("answer %+v does not name both partitions of orders", r.Topics)
				}
				if m := r.Topics[0].Partitions[0].ErrorMessage; m == nil || !strings.Contains(*m, "broken broker") {
					t.Errorf("error message %v does not say why", m)
				}
			case *kmsg.FetchResponse:
				// The top-level code is about fetch sessions and stays 0.
				if r.ErrorCode != 0 {
					t.Errorf("fetch session error %d", r.ErrorCode)
				}
				codes = append(codes, r.Topics[0].Partitions[0].ErrorCode)
			}
			for _, c := range codes {
				if c != tc.want {
					t.Fatalf("error codes %v, want all %d", codes, tc.want)
				}
			}
			if len(ev.List()) != 1 || ev.List()[0].Action != interceptor.Block {
				t.Fatalf("events %+v, want one BLOCK", ev.List())
			}
		})
	}
}

func TestRate(t *testing.T) {
	inst := newInstance(t, `{"rateInPercent":30}`)
	rolls := []int{29, 30, 0, 99}
	inst.roll = func(n int) int {
		if n != 100 {
			t.Fatalf("roll(%d), want roll(100)", n)
		}
		r := rolls[0]
		rolls = rolls[1:]
		return r
	}
	ch := chain(inst, &interceptortest.Events{})
	var got []bool
	for range 4 {
		req := produce()
		got = append(got, ch.Begin(&interceptor.Conn{}, req.Key(), req.GetVersion(), nil, time.Now()).Request(req))
	}
	if want := []bool{false, true, false, true}; !slices.Equal(got, want) {
		t.Fatalf("forwarded %v, want %v", got, want)
	}
}

func TestConfigValidation(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateBrokenBrokers")
	for _, tc := range []struct{ config, field string }{
		{`{}`, "rateInPercent"},
		{`{"rateInPercent":101}`, "rateInPercent"},
		{`{"rateInPercent":-1}`, "rateInPercent"},
		{`{"rateInPercent":"50"}`, "rateInPercent"},
		{`{"rateInPercent":50,"rate":3}`, "rate"},
		{`{"rateInPercent":50,"errorMap":{"METADATA":"UNKNOWN_SERVER_ERROR"}}`, "errorMap.METADATA"},
		{`{"rateInPercent":50,"errorMap":{"PRODUCE":"NO_SUCH_ERROR"}}`, "errorMap.PRODUCE"},
		{`{"rateInPercent":50,"errorMap":{"FETCH":"INVALID_REQUIRED_ACKS"}}`, "errorMap.FETCH"},
		{`{"rateInPercent":50,"errorMap":{"PRODUCE":"OFFSET_OUT_OF_RANGE"}}`, "errorMap.PRODUCE"},
		{`{"rateInPercent":50,"errorMap":{"FETCH":"BROKER_NOT_AVAILABLE"}}`, "errorMap.FETCH"},
		{`{"rateInPercent":50,"errorMap":{"PRODUCE":2}}`, "errorMap.PRODUCE"},
	} {
		_, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.config, err, tc.field)
		}
	}
}

// TestAllowedErrorsAreDocumented checks the README lists every allowed
// error under its API.
func TestAllowedErrorsAreDocumented(t *testing.T) {
	for key, api := range map[int16]string{kmsg.Produce.Int16(): "PRODUCE", kmsg.Fetch.Int16(): "FETCH"} {
		_, section, _ := strings.Cut(readme, "`"+api+"`:")
		section, _, _ = strings.Cut(section, "\n\n")
		for _, n := range names(key) {
			if !strings.Contains(section, "`"+n+"`") {
				t.Errorf("README does not list %s for %s", n, api)
			}
		}
	}
}
