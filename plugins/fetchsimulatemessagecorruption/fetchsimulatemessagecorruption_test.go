package fetchsimulatemessagecorruption

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

// batch encodes a gzip batch at base offset base with values, a nil value
// being a tombstone.
func batch(t *testing.T, base int64, values ...[]byte) []byte {
	t.Helper()
	comp, _ := kgo.DefaultCompressor(kgo.GzipCompression())
	none, _ := comp.Compress(new(bytes.Buffer), nil)
	none = bytes.Clone(none)
	empty := (&kmsg.RecordBatch{FirstOffset: base, Length: int32(49 + len(none)), Magic: 2, ProducerID: -1, FirstSequence: -1,
		Attributes: int16(kgo.CodecGzip), Records: none}).AppendTo(nil)
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

// fetch runs a fetch response of topic orders (by id, as Fetch v13
// names it) through the interceptor and returns what franz-go reads.
func fetch(t *testing.T, config string, data []byte) ([]*kgo.Record, *interceptortest.Events, []byte) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.chaos.FetchSimulateMessageCorruptionPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	inst.(*chaos).fill = func(b []byte) {
		for i := range b {
			b[i] = '#'
		}
	}
	ev := &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "t", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough", Topics: ids{{1}: "orders"}}, kmsg.Fetch.Int16(), 13, nil, time.Now())
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(13)
	rt := kmsg.NewFetchResponseTopic()
	rt.TopicID = [16]byte{1}
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.RecordBatches, rp.HighWatermark, rp.LastStableOffset = data, 10, 10
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	call.Response(resp)
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "orders"}, &resp.Topics[0].Partitions[0], kgo.DefaultDecompressor(), nil)
	if fp.Err != nil {
		t.Fatal(fp.Err)
	}
	return fp.Records, ev, resp.Topics[0].Partitions[0].RecordBatches
}

// ids names topics by id.
type ids map[[16]byte]string

func (m ids) TopicName(id [16]byte) (string, bool) { n, ok := m[id]; return n, ok }

func TestCorruption(t *testing.T) {
	data := append(batch(t, 0, []byte("a"), nil), batch(t, 2, []byte("bc"))...)
	for _, tc := range []struct {
		name, config string
		want         []string
	}{
		{"defaults", `{}`, []string{"a##########", "<nil>", "bc##########"}},
		{"4 bytes", `{"topic":"orders","sizeInBytes":4}`, []string{"a####", "<nil>", "bc####"}},
		{"rate 0", `{"rateInPercent":0}`, []string{"a", "<nil>", "bc"}},
		{"other topic", `{"topic":"logs"}`, []string{"a", "<nil>", "bc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, ev, out := fetch(t, tc.config, data)
			var got []string
			for _, r := range rs {
				if r.Value == nil {
					got = append(got, "<nil>")
				} else {
					got = append(got, string(r.Value))
				}
			}
			if len(got) != 3 || got[0] != tc.want[0] || got[1] != tc.want[1] || got[2] != tc.want[2] {
				t.Errorf("franz-go reads %q, want %q", got, tc.want)
			}
			changed := tc.want[0] != "a"
			if !changed && !bytes.Equal(out, data) {
				t.Error("unchanged records were re-encoded")
			}
			if changed != (len(ev.List()) == 1) || changed && (ev.List()[0].Action != interceptor.Override || ev.List()[0].Topic != "orders") {
				t.Errorf("events %+v", ev.List())
			}
		})
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("FetchSimulateMessageCorruption")
	for config, field := range map[string]string{
		`{"sizeInBytes":-2}`:    "sizeInBytes",
		`{"rateInPercent":-1}`:  "rateInPercent",
		`{"topic":"["}`:         "topic",
		`{"invalidSchemaId":1}`: "invalidSchemaId",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: got %v, want an error on %s", config, err, field)
		}
	}
}
