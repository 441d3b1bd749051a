package dynamicheaderinjection

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/records"
)

// batch encodes one producer batch of records with the given headers.
func batch(t testing.TB, codec kgo.CompressionCodec, values []string, headers ...kmsg.Header) []byte {
	t.Helper()
	var body []byte
	for i, v := range values {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte(v), Headers: headers}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		body = r.AppendTo(body)
	}
	b := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: int32(len(values) - 1), FirstTimestamp: 1, MaxTimestamp: 1,
		ProducerID: 9, ProducerEpoch: 1, FirstSequence: 5, NumRecords: int32(len(values))}
	if comp, _ := kgo.DefaultCompressor(codec); comp != nil {
		packed, c := comp.Compress(new(bytes.Buffer), body)
		body, b.Attributes = packed, int16(c)
	}
	b.Records, b.Length = body, int32(49+len(body))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

func produce(topics map[string][]byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	for _, name := range []string{"orders", "logs"} {
		if data, ok := topics[name]; ok {
			t := kmsg.NewProduceRequestTopic()
			t.Topic = name
			p := kmsg.NewProduceRequestTopicPartition()
			p.Records = data
			t.Partitions = append(t.Partitions, p)
			req.Topics = append(req.Topics, t)
		}
	}
	return req
}

func run(t *testing.T, config string, req *kmsg.ProduceRequest) *interceptortest.Events {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.DynamicHeaderInjectionPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "inject", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{Host: "gw1"})
	id := "app-7"
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough", Username: "alice", ClientIP: "10.0.0.5"}, req.Key(), 9, &id, time.Now())
	if !call.Request(req) {
		t.Fatal("the request was refused")
	}
	return ev
}

// headers returns each record's headers of a partition as k=v lists.
func headers(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	err := records.Read(data, func(b *records.Batch) error {
		if b.Header.ProducerID != 9 || b.Header.ProducerEpoch != 1 || b.Header.FirstSequence != 5 {
			return errors.New("producer id, epoch or sequence lost")
		}
		for _, r := range b.Records {
			var hs []string
			for _, h := range r.Headers {
				hs = append(hs, h.Key+"="+string(h.Value))
			}
			out = append(out, strings.Join(hs, ","))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInjection(t *testing.T) {
	existing := kmsg.Header{Key: "source", Value: []byte("app")}
	for _, tc := range []struct {
		name, config string
		codec        kgo.CompressionCodec
		want         string // headers of each record of orders
	}{
		{"template", `{"topic":"orders","headers":{"who":"{{user}}@{{userIp}}","client":"{{clientId}}","on":"{{gatewayHost}}"}}`,
			kgo.NoCompression(), "source=app,client=app-7,on=gw1,who=alice@10.0.0.5"},
		{"keeps existing", `{"topic":"orders","headers":{"source":"gateway"}}`, kgo.ZstdCompression(), ""},
		{"overrides existing", `{"topic":"orders","headers":{"source":"gateway"},"overrideIfExists":true}`, kgo.Lz4Compression(), "source=gateway"},
		{"gzip", `{"headers":{"x":"1"}}`, kgo.GzipCompression(), "source=app,x=1"},
		{"snappy", `{"headers":{"x":"1"}}`, kgo.SnappyCompression(), "source=app,x=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orders := batch(t, tc.codec, []string{"a", "b"}, existing)
			logs := batch(t, tc.codec, []string{"c"}, existing)
			req := produce(map[string][]byte{"orders": orders, "logs": logs})
			ev := run(t, tc.config, req)
			got := headers(t, req.Topics[0].Partitions[0].Records)
			if tc.want == "" {
				if !bytes.Equal(req.Topics[0].Partitions[0].Records, orders) || len(ev.List()) != 0 {
					t.Errorf("an unchanged batch was re-encoded or reported: %v", ev.List())
				}
			} else if len(got) != 2 || got[0] != tc.want || got[1] != tc.want {
				t.Errorf("orders headers %q, want %q", got, tc.want)
			}
			if strings.Contains(tc.config, `"topic":"orders"`) && !bytes.Equal(req.Topics[1].Partitions[0].Records, logs) {
				t.Error("a topic outside the pattern changed")
			}
			if tc.want != "" && (len(ev.List()) == 0 || ev.List()[0].Action != interceptor.Override || ev.List()[0].Topic != "orders") {
				t.Errorf("events %+v", ev.List())
			}
		})
	}
}

func TestUUIDPerRequest(t *testing.T) {
	var seen []string
	for range 2 {
		req := produce(map[string][]byte{"orders": batch(t, kgo.NoCompression(), []string{"a", "b"})})
		run(t, `{"headers":{"id":"{{uuid}}"}}`, req)
		hs := headers(t, req.Topics[0].Partitions[0].Records)
		if hs[0] != hs[1] || len(hs[0]) < 10 {
			t.Fatalf("records of one request have %q", hs)
		}
		seen = append(seen, hs[0])
	}
	if seen[0] == seen[1] {
		t.Error("two requests got the same uuid")
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("DynamicHeaderInjection")
	for config, field := range map[string]string{
		`{}`:                                             "headers",
		`{"headers":{"a":"{{password}}"}}`:               "headers.a",
		`{"headers":{"a":"x"},"unknown":1}`:              "unknown",
		`{"headers":{"a":"x"},"topic":"(("}`:             "topic",
		`{"headers":{"a":"{{user"}}`:                     "headers",
		`{"headers":{"a":"x"},"overrideIfExists":"yes"}`: "overrideIfExists",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, field) {
			t.Errorf("%s: got %v, want an error on %s", config, err, field)
		}
	}
	if _, err := p.New(json.RawMessage(`{"topic":"a.*","headers":{"a":"{{vcluster}}-{{apiKey}}"},"overrideIfExists":true}`), interceptor.Env{}); err != nil {
		t.Error(err)
	}
}

// text returns n bytes of pseudo-random lower-case hex, which compresses
// about as well as typical JSON payloads.
func text(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = "0123456789abcdef"[r.IntN(16)]
	}
	return string(b)
}

// BenchmarkInjection compares adding two headers to the records of a
// produce batch (8 records of 1 KB of hex text) with copying the same bytes.
func BenchmarkInjection(b *testing.B) {
	values := make([]string, 8)
	for i := range values {
		values[i] = text(1024, uint64(i))
	}
	for _, name := range []string{"none", "lz4", "zstd"} {
		codec := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[name]
		data := batch(b, codec, values)
		b.Run(fmt.Sprintf("copy/%s", name), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_ = append([]byte(nil), data...)
			}
		})
		b.Run(fmt.Sprintf("inject/%s", name), func(b *testing.B) {
			p, _ := interceptor.Lookup("DynamicHeaderInjection")
			inst, err := p.New(json.RawMessage(`{"headers":{"user":"{{user}}","ip":"{{userIp}}"}}`), interceptor.Env{})
			if err != nil {
				b.Fatal(err)
			}
			ch := interceptor.NewChain(1, []interceptor.Step{{Name: "i", Plugin: p.Name, Interceptor: inst}}, nil, interceptor.Node{})
			conn := &interceptor.Conn{VCluster: "passthrough", Username: "alice", ClientIP: "10.0.0.5"}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				req := produce(map[string][]byte{"orders": data})
				ch.Begin(conn, 0, 9, nil, time.Now()).Request(req)
			}
		})
	}
}
