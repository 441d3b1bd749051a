package producesimulatemessagecorruption

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/records"
)

// batch encodes an idempotent producer's zstd batch with values, a nil
// value being a tombstone.
func batch(t *testing.T, values ...[]byte) []byte {
	t.Helper()
	empty := (&kmsg.RecordBatch{Length: 49, Magic: 2, ProducerID: 3, FirstSequence: 10, Attributes: int16(kgo.CodecZstd)}).AppendTo(nil)
	out, err := records.Rewrite(empty, func(b *records.Batch) (bool, error) {
		for i, v := range values {
			b.Records = append(b.Records, kmsg.Record{OffsetDelta: int32(i), Value: v})
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCorruption(t *testing.T) {
	for _, tc := range []struct {
		name, config, topic string
		chosen              map[int]bool // by index of the non-null values asked
		want                []string
	}{
		{"defaults", `{}`, "orders", map[int]bool{0: true, 1: true}, []string{"a" + "##########", "<nil>", "bc" + "##########"}},
		{"some, 3 bytes", `{"topic":"ord.*","sizeInBytes":3,"rateInPercent":50}`, "orders", map[int]bool{1: true}, []string{"a", "<nil>", "bc###"}},
		{"other topic", `{"topic":"ord.*"}`, "logs", map[int]bool{0: true, 1: true}, []string{"a", "<nil>", "bc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.ProduceSimulateMessageCorruptionPlugin")
			if !ok {
				t.Fatal("the Conduktor class name is not an alias")
			}
			inst, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			asked := 0
			inst.(*chaos).roll = func(int) int {
				defer func() { asked++ }()
				if tc.chosen[asked] {
					return 0
				}
				return 99
			}
			inst.(*chaos).fill = func(b []byte) {
				for i := range b {
					b[i] = '#'
				}
			}
			ev := &interceptortest.Events{}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "t", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
			call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, kmsg.Produce.Int16(), 9, nil, time.Now())
			req := kmsg.NewPtrProduceRequest()
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic = tc.topic
			rp := kmsg.NewProduceRequestTopicPartition()
			sent := batch(t, []byte("a"), nil, []byte("bc"))
			rp.Records = sent
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			call.Request(req)

			var got []string
			err = records.Read(req.Topics[0].Partitions[0].Records, func(b *records.Batch) error {
				if b.Header.ProducerID != 3 || b.Header.FirstSequence != 10 || b.Codec() != kgo.CodecZstd {
					t.Errorf("header changed: %+v", b.Header)
				}
				for _, r := range b.Records {
					if r.Value == nil {
						got = append(got, "<nil>")
					} else {
						got = append(got, string(r.Value))
					}
				}
				return nil
			})
			if err != nil || len(got) != 3 || got[0] != tc.want[0] || got[1] != tc.want[1] || got[2] != tc.want[2] {
				t.Errorf("values %q (%v), want %q", got, err, tc.want)
			}
			changed := tc.want[0] != "a" || tc.want[2] != "bc"
			if changed != (len(ev.List()) == 1) || changed && ev.List()[0].Action != interceptor.Override {
				t.Errorf("events %+v", ev.List())
			}
		})
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("ProduceSimulateMessageCorruption")
	for config, field := range map[string]string{
		`{"sizeInBytes":0}`:         "sizeInBytes",
		`{"sizeInBytes":2000000}`:   "sizeInBytes",
		`{"rateInPercent":101}`:     "rateInPercent",
		`{"rateInPercent":"often"}`: "rateInPercent",
		`{"target":"PRODUCE"}`:      "target",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: got %v, want an error on %s", config, err, field)
		}
	}
}
