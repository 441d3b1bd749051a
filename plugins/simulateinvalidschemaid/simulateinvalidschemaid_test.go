package simulateinvalidschemaid

import (
	"bytes"
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

// batch encodes an uncompressed batch with values.
func batch(t *testing.T, values ...[]byte) []byte {
	t.Helper()
	empty := (&kmsg.RecordBatch{Length: 49, Magic: 2, ProducerID: -1, FirstSequence: -1}).AppendTo(nil)
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

var (
	framed  = []byte{0, 0, 0, 0, 7, 'x'}
	plain   = []byte("plain")
	short   = []byte{0, 0, 1}
	sent    = [][]byte{framed, plain, nil, short}
	with99  = []byte{0, 0, 0, 0, 99, 'x'}
	withBig = []byte{0, 0x7f, 0xff, 0xff, 0xff, 'x'}
)

func TestSchemaID(t *testing.T) {
	for _, tc := range []struct {
		name, config, topic string
		produce             bool
		want                []byte // the framed value afterwards
	}{
		{"consume", `{"invalidSchemaId":99}`, "orders", false, with99},
		{"produce, largest id", `{"topic":"orders","invalidSchemaId":2147483647,"target":"PRODUCE"}`, "orders", true, withBig},
		{"consume, produce target", `{"invalidSchemaId":99,"target":"PRODUCE"}`, "orders", false, framed},
		{"other topic", `{"topic":"logs","invalidSchemaId":99}`, "orders", false, framed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.SimulateInvalidSchemaIdPlugin")
			if !ok {
				t.Fatal("the Conduktor class name is not an alias")
			}
			inst, err := p.New(json.RawMessage(tc.config), interceptor.Env{})
			if err != nil {
				t.Fatal(err)
			}
			ev := &interceptortest.Events{}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "t", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
			conn := &interceptor.Conn{VCluster: "passthrough"}
			data := batch(t, sent...)
			var got *[]byte
			if tc.produce {
				call := ch.Begin(conn, kmsg.Produce.Int16(), 9, nil, time.Now())
				req := kmsg.NewPtrProduceRequest()
				rt := kmsg.NewProduceRequestTopic()
				rt.Topic = tc.topic
				rt.Partitions = []kmsg.ProduceRequestTopicPartition{{Records: data}}
				req.Topics = append(req.Topics, rt)
				if ch.Intercepts(kmsg.Produce.Int16()) {
					call.Request(req)
				}
				got = &req.Topics[0].Partitions[0].Records
			} else {
				call := ch.Begin(conn, kmsg.Fetch.Int16(), 12, nil, time.Now())
				resp := kmsg.NewPtrFetchResponse()
				rt := kmsg.NewFetchResponseTopic()
				rt.Topic = tc.topic
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.RecordBatches = data
				rt.Partitions = append(rt.Partitions, rp)
				resp.Topics = append(resp.Topics, rt)
				if ch.Intercepts(kmsg.Fetch.Int16()) {
					call.Response(resp)
				}
				got = &resp.Topics[0].Partitions[0].RecordBatches
			}
			var values [][]byte
			err = records.Read(*got, func(b *records.Batch) error {
				for _, r := range b.Records {
					values = append(values, r.Value)
				}
				return nil
			})
			if err != nil || len(values) != 4 || !bytes.Equal(values[0], tc.want) || !bytes.Equal(values[1], plain) ||
				values[2] != nil || !bytes.Equal(values[3], short) {
				t.Errorf("values %q (%v), want %q first and the rest untouched", values, err, tc.want)
			}
			changed := !bytes.Equal(tc.want, framed)
			if changed != (len(ev.List()) == 1) || changed && (ev.List()[0].Action != interceptor.Override || ev.List()[0].Topic != "orders") {
				t.Errorf("events %+v", ev.List())
			}
			if !tc.produce {
				fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: tc.topic}, &kmsg.FetchResponseTopicPartition{RecordBatches: *got}, kgo.DefaultDecompressor(), nil)
				if fp.Err != nil || len(fp.Records) != 4 {
					t.Errorf("franz-go reads %d records: %v", len(fp.Records), fp.Err)
				}
			}
		})
	}
}

// TestRandomID checks that without invalidSchemaId each value gets an id
// of its own, none of them the original.
func TestRandomID(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateInvalidSchemaId")
	inst, err := p.New(json.RawMessage(`{}`), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uint32]bool{}
	for range 50 {
		ids[inst.(*chaos).id()] = true
	}
	if len(ids) < 45 || ids[7] {
		t.Errorf("50 random ids gave %d distinct ones", len(ids))
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("SimulateInvalidSchemaId")
	for config, field := range map[string]string{
		`{"invalidSchemaId":-1}`:         "invalidSchemaId",
		`{"invalidSchemaId":2147483648}`: "invalidSchemaId",
		`{"invalidSchemaId":"x"}`:        "invalidSchemaId",
		`{"target":"FETCH"}`:             "target",
		`{"rateInPercent":5}`:            "rateInPercent",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: got %v, want an error on %s", config, err, field)
		}
	}
}
