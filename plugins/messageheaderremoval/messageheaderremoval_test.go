package messageheaderremoval

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

// batch encodes a batch as a broker stores it: base offset, codec, and
// two records with the given header keys.
func batch(base int64, codec kgo.CompressionCodec, keys ...string) []byte {
	var body []byte
	for i := range 2 {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte("v")}
		for _, k := range keys {
			r.Headers = append(r.Headers, kmsg.Header{Key: k, Value: []byte(k + "-value")})
		}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		body = r.AppendTo(body)
	}
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, LastOffsetDelta: 1, ProducerID: -1, FirstSequence: -1, NumRecords: 2}
	if comp, _ := kgo.DefaultCompressor(codec); comp != nil {
		packed, c := comp.Compress(new(bytes.Buffer), body)
		body, b.Attributes = packed, int16(c)
	}
	b.Records, b.Length = body, int32(49+len(body))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// ids names topics by id, as Fetch v13 does.
type ids map[[16]byte]string

func (m ids) TopicName(id [16]byte) (string, bool) { n, ok := m[id]; return n, ok }

// run passes a fetch response with topics orders (by id) and logs through
// the interceptor and returns, per topic, the header keys the consumer
// reads, as franz-go parses them.
func run(t *testing.T, config string, orders, logs []byte) (map[string]string, *interceptortest.Events, *kmsg.FetchResponse) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.MessageHeaderRemovalPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "strip", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
	conn := &interceptor.Conn{VCluster: "passthrough", Topics: ids{{1}: "orders"}}
	call := ch.Begin(conn, kmsg.Fetch.Int16(), 13, nil, time.Now())
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(13)
	for _, x := range []struct {
		id   [16]byte
		data []byte
	}{{[16]byte{1}, orders}, {[16]byte{2}, logs}} {
		rt := kmsg.NewFetchResponseTopic()
		rt.TopicID = x.id
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.RecordBatches, rp.HighWatermark, rp.LastStableOffset = x.data, 100, 100
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
	}
	call.Response(resp)
	seen := map[string]string{}
	for i, name := range []string{"orders", "logs"} {
		fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: name}, &resp.Topics[i].Partitions[0], kgo.DefaultDecompressor(), nil)
		if fp.Err != nil {
			t.Fatalf("%s: %v", name, fp.Err)
		}
		var keys []string
		for _, r := range fp.Records {
			var ks []string
			for _, h := range r.Headers {
				ks = append(ks, h.Key)
			}
			keys = append(keys, strings.Join(ks, "+"))
		}
		seen[name] = strings.Join(keys, ",")
	}
	return seen, ev, resp
}

func TestRemoval(t *testing.T) {
	for _, tc := range []struct {
		name, config  string
		codec         kgo.CompressionCodec
		orders, logs  string
		untouchedLogs bool
	}{
		{"by topic id, lz4", `{"topic":"orders","headerKeyRegex":"secret.*"}`, kgo.Lz4Compression(), "keep,keep,keep,keep", "secret+keep,secret+keep,secret+keep,secret+keep", true},
		{"whole-key match", `{"headerKeyRegex":"secre"}`, kgo.GzipCompression(), "secret+keep,secret+keep,secret+keep,secret+keep", "secret+keep,secret+keep,secret+keep,secret+keep", true},
		{"all topics, zstd", `{"headerKeyRegex":"keep|secret"}`, kgo.ZstdCompression(), ",,,", ",,,", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := append(batch(0, tc.codec, "secret", "keep"), batch(2, tc.codec, "secret", "keep")...)
			seen, ev, resp := run(t, tc.config,
				append(batch(0, tc.codec, "secret", "keep"), batch(2, tc.codec, "secret", "keep")...), logs)
			if seen["orders"] != tc.orders || seen["logs"] != tc.logs {
				t.Errorf("consumer reads %v, want orders %q logs %q", seen, tc.orders, tc.logs)
			}
			if tc.untouchedLogs && !bytes.Equal(resp.Topics[1].Partitions[0].RecordBatches, logs) {
				t.Error("a partition without a matching header was re-encoded")
			}
			changed := tc.orders != "secret+keep,secret+keep,secret+keep,secret+keep"
			if changed != (len(ev.List()) > 0) || changed && (ev.List()[0].Action != interceptor.Override || ev.List()[0].Topic != "orders") {
				t.Errorf("events %+v", ev.List())
			}
		})
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("MessageHeaderRemoval")
	for config, field := range map[string]string{
		`{}`:                                  "headerKeyRegex",
		`{"headerKeyRegex":"("}`:              "headerKeyRegex",
		`{"headerKeyRegex":"a","action":"x"}`: "action",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: got %v, want an error on %s", config, err, field)
		}
	}
}
