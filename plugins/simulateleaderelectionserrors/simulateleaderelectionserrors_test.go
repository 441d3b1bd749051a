package simulateleaderelectionserrors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

// newChain makes a chain of one SimulateLeaderElectionsErrors whose random
// draws are rolls, in order (nil: math/rand).
func newChain(t *testing.T, config string, rolls []int) (*interceptor.Chain, *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.SimulateLeaderElectionsErrorsPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if rolls != nil {
		inst.(*chaos).roll = func(n int) int {
			if len(rolls) == 0 {
				t.Fatal("more random draws than expected")
			}
			r := rolls[0]
			rolls = rolls[1:]
			if r >= n {
				t.Fatalf("roll %d out of [0, %d)", r, n)
			}
			return r
		}
	}
	ev := &interceptortest.Events{}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "elections", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{}), ev
}

// produce makes a Produce request: topic, partition count, topic, ...
func produce(topics ...any) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	for i := 0; i < len(topics); i += 2 {
		t := kmsg.NewProduceRequestTopic()
		t.Topic = topics[i].(string)
		for p := range int32(topics[i+1].(int)) {
			tp := kmsg.NewProduceRequestTopicPartition()
			tp.Partition = p
			t.Partitions = append(t.Partitions, tp)
		}
		req.Topics = append(req.Topics, t)
	}
	return req
}

// broker answers the partitions of a Produce request that reach it.
func broker(req *kmsg.ProduceRequest) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// codes lists topic/partition=code of a Produce response, in order.
func codes(resp *kmsg.ProduceResponse) []string {
	var out []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, fmt.Sprintf("%s/%d=%d", t.Topic, p.Partition, p.ErrorCode))
		}
	}
	return out
}

func TestProduce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rate      int
		rolls     []int
		forwarded []string // what reaches the broker, each with code 0
		answered  []string // the client's answer
		events    []string
	}{
		{
			name: "some partitions", rate: 50,
			// orders/0 fails with the second error, orders/1 passes,
			// logs/0 fails with the first.
			rolls:     []int{10, 1, 60, 49, 0},
			forwarded: []string{"orders/1=0"},
			answered:  []string{"orders/1=0", "orders/0=6", "logs/0=5"},
			events:    []string{"BLOCK:orders", "BLOCK:logs"},
		},
		{
			name: "every partition", rate: 100,
			rolls:    []int{99, 0, 0, 1, 0, 1},
			answered: []string{"orders/0=5", "orders/1=6", "logs/0=6"},
			events:   []string{"BLOCK:orders", "BLOCK:logs"},
		},
		{
			name: "none", rate: 0,
			rolls:     []int{0, 0, 0},
			forwarded: []string{"orders/0=0", "orders/1=0", "logs/0=0"},
			answered:  []string{"orders/0=0", "orders/1=0", "logs/0=0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, ev := newChain(t, fmt.Sprintf(`{"rateInPercent":%d}`, tc.rate), tc.rolls)
			req := produce("orders", 2, "logs", 1)
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), req.GetVersion(), nil, time.Now())
			if !call.Request(req) {
				t.Fatal("the whole request was refused")
			}
			resp := broker(req)
			if got := codes(resp); !slices.Equal(got, tc.forwarded) {
				t.Fatalf("forwarded %v, want %v", got, tc.forwarded)
			}
			call.Response(resp)
			if got := codes(resp); !slices.Equal(got, tc.answered) {
				t.Fatalf("answered %v, want %v", got, tc.answered)
			}
			if got := ev.String(); got != strings.Join(tc.events, ",") {
				t.Fatalf("events %v, want %v", got, tc.events)
			}
		})
	}
}

// batch is the header of a record batch of an idempotent producer.
func batch(producer int64, epoch int16, seq int32) []byte {
	b := make([]byte, 61)
	b[16] = 2
	binary.BigEndian.PutUint64(b[43:], uint64(producer))
	binary.BigEndian.PutUint16(b[51:], uint16(epoch))
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	return b
}

// TestIdempotentHold: once a batch of an idempotent producer is refused,
// its later batches for the partition are refused without a draw until
// the refused one comes back and passes.
func TestIdempotentHold(t *testing.T) {
	rolls := []int{
		10, 0, // seq 3 refused
		// seq 4 and 5 refused without a draw
		10, 1, // seq 3 retried, refused again
		// seq 4 refused without a draw
		90, // seq 3 passes
		90, // seq 4 passes
	}
	ch, _ := newChain(t, `{"rateInPercent":30}`, rolls)
	send := func(producer int64, seq int32) int16 {
		req := produce("orders", 1)
		req.Topics[0].Partitions[0].Records = batch(producer, 0, seq)
		call := ch.Begin(&interceptor.Conn{}, req.Key(), req.GetVersion(), nil, time.Now())
		call.Request(req)
		resp := broker(req)
		call.Response(resp)
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	notLeader, noLeader := kerr.NotLeaderForPartition.Code, kerr.LeaderNotAvailable.Code
	for i, step := range []struct {
		seq  int32
		want int16
	}{{3, noLeader}, {4, notLeader}, {5, notLeader}, {3, notLeader}, {4, notLeader}, {3, 0}, {4, 0}} {
		if got := send(7, step.seq); got != step.want {
			t.Fatalf("step %d, sequence %d: code %d, want %d", i, step.seq, got, step.want)
		}
	}
}

func fetchResponse() *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(12)
	t := kmsg.NewFetchResponseTopic()
	t.Topic = "orders"
	for i, code := range []int16{0, kerr.OffsetOutOfRange.Code, 0} {
		p := kmsg.NewFetchResponseTopicPartition()
		p.Partition, p.ErrorCode, p.HighWatermark = int32(i), code, 42
		p.RecordBatches = []byte("records")
		t.Partitions = append(t.Partitions, p)
	}
	resp.Topics = append(resp.Topics, t)
	return resp
}

func TestFetch(t *testing.T) {
	// Partition 1 already failed and is left alone; 0 fails with the
	// first error, 2 passes.
	ch, ev := newChain(t, `{"rateInPercent":40}`, []int{39, 0, 40})
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	if !ch.Intercepts(req.Key()) {
		t.Fatal("Fetch is not intercepted")
	}
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), req.GetVersion(), nil, time.Now())
	if !call.Request(req) {
		t.Fatal("the request was refused")
	}
	resp := fetchResponse()
	call.Response(resp)
	ps := resp.Topics[0].Partitions
	if p := ps[0]; p.ErrorCode != kerr.NotLeaderForPartition.Code || p.RecordBatches != nil || p.HighWatermark != -1 {
		t.Errorf("failed partition: code %d, records %q, high watermark %d", p.ErrorCode, p.RecordBatches, p.HighWatermark)
	}
	if p := ps[1]; p.ErrorCode != kerr.OffsetOutOfRange.Code || string(p.RecordBatches) != "records" {
		t.Errorf("partition already in error was changed: %+v", p)
	}
	if p := ps[2]; p.ErrorCode != 0 || string(p.RecordBatches) != "records" {
		t.Errorf("passing partition was changed: %+v", p)
	}
	if got := ev.String(); got != "BLOCK:orders" {
		t.Errorf("events %v", got)
	}
}

func TestFetchErrorLeftAlone(t *testing.T) {
	ch, ev := newChain(t, `{"rateInPercent":100}`, []int{})
	resp := fetchResponse()
	resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
	call := ch.Begin(&interceptor.Conn{}, kmsg.Fetch.Int16(), 12, nil, time.Now())
	call.Response(resp)
	if resp.Topics[0].Partitions[0].ErrorCode != 0 || len(ev.List()) != 0 {
		t.Fatal("a failed fetch was failed again")
	}
}

func TestRandomErrorsAreElectionErrors(t *testing.T) {
	ch, _ := newChain(t, `{"rateInPercent":100}`, nil)
	seen := map[int16]bool{}
	for range 200 {
		req := produce("orders", 1)
		call := ch.Begin(&interceptor.Conn{}, req.Key(), req.GetVersion(), nil, time.Now())
		call.Request(req)
		resp := broker(req)
		call.Response(resp)
		seen[resp.Topics[0].Partitions[0].ErrorCode] = true

		call = ch.Begin(&interceptor.Conn{}, kmsg.Fetch.Int16(), 12, nil, time.Now())
		fr := fetchResponse()
		call.Response(fr)
		if c := fr.Topics[0].Partitions[0].ErrorCode; c != kerr.NotLeaderForPartition.Code {
			t.Fatalf("fetch answered with %d", c)
		}
	}
	want := map[int16]bool{kerr.LeaderNotAvailable.Code: true, kerr.NotLeaderForPartition.Code: true}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("produce error codes seen %v, want %v", seen, want)
	}
}

func TestConfigValidation(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateLeaderElectionsErrors")
	for _, tc := range []struct{ config, field string }{
		{`{}`, "rateInPercent"},
		{`{"rateInPercent":101}`, "rateInPercent"},
		{`{"rateInPercent":-5}`, "rateInPercent"},
		{`{"rateInPercent":1.5}`, "rateInPercent"},
		{`{"rateInPercent":5,"errorMap":{}}`, "errorMap"},
	} {
		_, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.config, err, tc.field)
		}
	}
}
