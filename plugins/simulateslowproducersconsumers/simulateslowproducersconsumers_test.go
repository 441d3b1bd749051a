package simulateslowproducersconsumers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

// ids names topics by id, as the gateway's topology does.
type ids map[[16]byte]string

func (m ids) TopicName(id [16]byte) (string, bool) { n, ok := m[id]; return n, ok }

func produce(topics ...string) kmsg.Request {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	for _, n := range topics {
		t := kmsg.NewProduceRequestTopic()
		t.Topic = n
		req.Topics = append(req.Topics, t)
	}
	return req
}

func fetch(topics ...string) kmsg.Request {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	for _, n := range topics {
		t := kmsg.NewFetchRequestTopic()
		t.Topic = n
		req.Topics = append(req.Topics, t)
	}
	return req
}

// fetchByID is a Fetch v13 request naming a topic by id only.
func fetchByID(id byte) kmsg.Request {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(13)
	t := kmsg.NewFetchRequestTopic()
	t.TopicID[0] = id
	req.Topics = append(req.Topics, t)
	return req
}

func TestDelay(t *testing.T) {
	const config = `{"topic":"slow-.*","rateInPercent":50,"minLatencyMs":100,"maxLatencyMs":300}`
	for _, tc := range []struct {
		name  string
		req   kmsg.Request
		rolls []int
		want  time.Duration
	}{
		{"produce to a matching topic", produce("fast", "slow-orders"), []int{49, 20}, 120 * time.Millisecond},
		{"produce outside the rate", produce("slow-orders"), []int{50}, 0},
		{"produce to other topics", produce("fast", "slow"), nil, 0},
		{"fetch of a matching topic", fetch("slow-logs"), []int{0, 200}, 300 * time.Millisecond},
		{"fetch of another topic", fetch("logs"), nil, 0},
		{"fetch by id of a matching topic", fetchByID(1), []int{0, 0}, 100 * time.Millisecond},
		{"fetch by id of another topic", fetchByID(2), nil, 0},
		{"fetch by unknown id", fetchByID(3), nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.SimulateSlowProducersConsumersPlugin")
			if !ok {
				t.Fatal("the Conduktor class name is not an alias")
			}
			inst, err := p.New(json.RawMessage(config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			rolls := tc.rolls
			inst.(*chaos).roll = func(n int) int {
				if len(rolls) == 0 || rolls[0] >= n {
					t.Fatalf("unexpected draw in [0, %d), left %v", n, rolls)
				}
				r := rolls[0]
				rolls = rolls[1:]
				return r
			}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "slow", Plugin: p.Name, Priority: 1, Interceptor: inst}}, nil, interceptor.Node{})
			conn := &interceptor.Conn{VCluster: "passthrough", Topics: ids{{1}: "slow-ids", {2}: "ids"}}
			call := ch.Begin(conn, tc.req.Key(), tc.req.GetVersion(), nil, time.Now())
			if !call.Request(tc.req) {
				t.Fatal("the request was refused")
			}
			if call.Delayed() != tc.want || len(rolls) != 0 {
				t.Fatalf("delay %v (draws left %v), want %v", call.Delayed(), rolls, tc.want)
			}
			resp := tc.req.ResponseKind()
			call.Response(resp)
			if call.Throttled() != 0 {
				t.Error("throttled: a slow client is not a quota")
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateSlowProducersConsumers")
	for _, tc := range []struct{ config, field string }{
		{`{"rateInPercent":50,"maxLatencyMs":10}`, "topic"},
		{`{"topic":"(","rateInPercent":50,"maxLatencyMs":10}`, "topic"},
		{`{"topic":"a","maxLatencyMs":10}`, "rateInPercent"},
		{`{"topic":"a","rateInPercent":-1,"maxLatencyMs":10}`, "rateInPercent"},
		{`{"topic":"a","rateInPercent":50}`, "maxLatencyMs"},
		{`{"topic":"a","rateInPercent":50,"minLatencyMs":-3,"maxLatencyMs":10}`, "minLatencyMs"},
		{`{"topic":"a","rateInPercent":50,"minLatencyMs":30,"maxLatencyMs":10}`, "maxLatencyMs"},
	} {
		_, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.config, err, tc.field)
		}
	}
}
