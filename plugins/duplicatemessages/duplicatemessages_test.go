package duplicatemessages

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/records"
)

// batch encodes a batch of values v0…v(n-1) at base offset base, with a
// producer id when pid ≥ 0, lz4-compressed as a client sends it.
func batch(t *testing.T, base, pid int64, n int) []byte {
	t.Helper()
	seed := kmsg.RecordBatch{FirstOffset: base, Length: 49, Magic: 2, ProducerID: pid, FirstSequence: -1, Attributes: int16(kgo.CodecLz4)}
	if pid >= 0 {
		seed.FirstSequence = 0
	}
	// Rewrite encodes the batch: start from an empty one and fill it.
	empty := seed.AppendTo(nil)
	out, err := records.Rewrite(empty, func(b *records.Batch) (bool, error) {
		for i := range n {
			b.Records = append(b.Records, kmsg.Record{OffsetDelta: int32(i), Value: []byte("v" + string(rune('0'+i)))})
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pick chooses the records whose index (in the order asked) is listed.
func pick(indexes ...int) func(int) int {
	asked := 0
	return func(int) int {
		defer func() { asked++ }()
		for _, i := range indexes {
			if i == asked {
				return 0
			}
		}
		return 99
	}
}

// values lists the values of the batches in data: one string per batch,
// with its base offset.
func values(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	err := records.Read(data, func(b *records.Batch) error {
		var vs []string
		for _, r := range b.Records {
			vs = append(vs, string(r.Value))
		}
		out = append(out, strings.Join(vs, ","))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func chain(t *testing.T, config string, roll func(int) int) (*interceptor.Chain, *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.DuplicateMessagesPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	inst.(*chaos).roll = roll
	ev := &interceptortest.Events{}
	return interceptor.NewChain(1, []interceptor.Step{{Name: "t", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{}), ev
}

func TestConsume(t *testing.T) {
	for _, tc := range []struct {
		name, config, topic string
		chosen              []int
		want                []string // batches the consumer receives
		franz               int      // records franz-go hands over
	}{
		{"every record", `{"topic":"orders"}`, "orders", []int{0, 1, 2, 3, 4, 5}, []string{"v0,v1,v2", "v0,v1,v2", "v0,v1,v2", "v0,v1,v2"}, 6},
		{"some records", `{"rateInPercent":50}`, "orders", []int{1, 5}, []string{"v0,v1,v2", "v1", "v0,v1,v2", "v2"}, 6},
		{"none chosen", `{"rateInPercent":50}`, "orders", nil, []string{"v0,v1,v2", "v0,v1,v2"}, 6},
		{"other topic", `{"topic":"orders","target":"consume"}`, "logs", []int{0, 1, 2, 3, 4, 5}, []string{"v0,v1,v2", "v0,v1,v2"}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, ev := chain(t, tc.config, pick(tc.chosen...))
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, kmsg.Fetch.Int16(), 12, nil, time.Now())
			resp := kmsg.NewPtrFetchResponse()
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic = tc.topic
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.HighWatermark, rp.LastStableOffset = 6, 6
			rp.RecordBatches = append(batch(t, 0, -1, 3), batch(t, 3, 7, 3)...)
			rp.RecordBatches = append(rp.RecordBatches, batch(t, 6, -1, 3)[:20]...) // a partial batch ends the data
			rt.Partitions = append(rt.Partitions, rp)
			resp.Topics = append(resp.Topics, rt)
			call.Response(resp)

			got := resp.Topics[0].Partitions[0]
			if v := values(t, got.RecordBatches); strings.Join(v, "|") != strings.Join(tc.want, "|") {
				t.Errorf("batches %q, want %q", v, tc.want)
			}
			fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: tc.topic}, &got, kgo.DefaultDecompressor(), nil)
			if fp.Err != nil || len(fp.Records) != tc.franz {
				t.Errorf("franz-go reads %d records (%v), want %d: it skips offsets it has read", len(fp.Records), fp.Err, tc.franz)
			}
			dup := len(tc.want) > 2
			if dup != (len(ev.List()) == 1) || dup && (ev.List()[0].Action != interceptor.Override || ev.List()[0].Topic != "orders") {
				t.Errorf("events %+v", ev.List())
			}
		})
	}
}

func TestProduce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pid    int64
		chosen []int
		want   string
		action interceptor.Action
	}{
		{"some records", -1, []int{0, 2}, "v0,v1,v2,v0,v2", interceptor.Override},
		{"idempotent producer", 5, []int{0, 1, 2}, "v0,v1,v2", interceptor.Info},
		{"none chosen", -1, nil, "v0,v1,v2", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, ev := chain(t, `{"topic":"ord.*","rateInPercent":50,"target":"PRODUCE"}`, pick(tc.chosen...))
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, kmsg.Produce.Int16(), 9, nil, time.Now())
			req := kmsg.NewPtrProduceRequest()
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic = "orders"
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Records = batch(t, 0, tc.pid, 3)
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			call.Request(req)

			data := req.Topics[0].Partitions[0].Records
			if v := values(t, data); len(v) != 1 || v[0] != tc.want {
				t.Errorf("batch %q, want %q", v, tc.want)
			}
			_ = records.Read(data, func(b *records.Batch) error {
				if int(b.Header.LastOffsetDelta) != len(b.Records)-1 || b.Header.ProducerID != tc.pid {
					t.Errorf("header %+v for %d records", b.Header, len(b.Records))
				}
				return nil
			})
			if tc.action == "" && len(ev.List()) > 0 || tc.action != "" && (len(ev.List()) != 1 || ev.List()[0].Action != tc.action) {
				t.Errorf("events %+v, want one %s", ev.List(), tc.action)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("DuplicateMessages")
	for config, field := range map[string]string{
		`{"rateInPercent":101}`: "rateInPercent",
		`{"rateInPercent":-1}`:  "rateInPercent",
		`{"target":"BOTH"}`:     "target",
		`{"topic":"("}`:         "topic",
		`{"sizeInBytes":3}`:     "sizeInBytes",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: got %v, want an error on %s", config, err, field)
		}
	}
	if _, err := p.New(json.RawMessage(`{}`), interceptor.Env{}); err != nil {
		t.Errorf("the empty config: %v", err)
	}
}
