package producepolicy

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/records"
)

// batch encodes a record batch header with one empty record slot.
func batch(codec int16, producerID int64, transactional bool) []byte {
	b := kmsg.RecordBatch{Magic: 2, Attributes: codec, ProducerID: producerID, NumRecords: 1, Records: []byte{0}}
	if transactional {
		b.Attributes |= 0x10
	}
	raw := b.AppendTo(nil)
	b.Length = int32(len(raw) - 12)
	return b.AppendTo(nil)
}

func produce(acks int16, batches map[string][]byte) *kmsg.ProduceRequest {
	r := kmsg.NewPtrProduceRequest()
	r.Acks = acks
	for name, data := range batches {
		t := kmsg.NewProduceRequestTopic()
		t.Topic = name
		p := kmsg.NewProduceRequestTopicPartition()
		p.Records = data
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

// run passes a produce request through a chain of one ProducePolicy and a
// broker that writes whatever reaches it. It returns the error code per
// topic answered to the client, whether the whole request was refused, and
// the reported events as ACTION:topic in sorted order.
func run(t *testing.T, config string, version int16, req *kmsg.ProduceRequest) (codes map[string]int16, whole bool, events string) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.ProducePolicyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "policy", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
	req.SetVersion(version)
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), version, nil, time.Now())
	var resp *kmsg.ProduceResponse
	if call.Request(req) {
		resp = req.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range req.Topics {
			a := kmsg.NewProduceResponseTopic()
			a.Topic = tp.Topic
			for _, p := range tp.Partitions {
				a.Partitions = append(a.Partitions, kmsg.ProduceResponseTopicPartition{Partition: p.Partition})
			}
			resp.Topics = append(resp.Topics, a)
		}
		call.Response(resp)
	} else {
		whole = true
		resp = call.Refusal(req).(*kmsg.ProduceResponse)
	}
	codes = map[string]int16{}
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			codes[tp.Topic] = p.ErrorCode
			if p.ErrorCode != 0 && (p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, "policy")) {
				t.Errorf("refusal without a message: %v", p.ErrorMessage)
			}
		}
	}
	got := strings.Split(ev.String(), ",")
	slices.Sort(got) // topics of a request built from a map come in any order
	return codes, whole, strings.Join(got, ",")
}

func TestRules(t *testing.T) {
	pv := kerr.PolicyViolation.Code
	for _, c := range []struct {
		name, config string
		version      int16
		req          *kmsg.ProduceRequest
		whole        bool
		codes        map[string]int16
		events       string
	}{
		{"acks allowed", `{"acks":{"value":[-1]}}`, 9, produce(-1, map[string][]byte{"a": batch(0, -1, false)}), false, map[string]int16{"a": 0}, ""},
		{"acks refused", `{"acks":{"value":[-1]}}`, 9, produce(1, map[string][]byte{"a": batch(0, -1, false)}), true, map[string]int16{"a": pv}, "BLOCK:a"},
		{"acks INFO", `{"acks":{"value":[-1],"action":"INFO"}}`, 9, produce(1, map[string][]byte{"a": batch(0, -1, false)}), false, map[string]int16{"a": 0}, "INFO:a"},
		{"outside the topic pattern", `{"topic":"orders-.*","acks":{"value":[-1]}}`, 9, produce(0, map[string][]byte{"a": batch(0, -1, false)}), false, map[string]int16{"a": 0}, ""},
		{"version refused", `{"version":{"min":9}}`, 7, produce(-1, map[string][]byte{"a": batch(0, -1, false)}), true, map[string]int16{"a": pv}, "BLOCK:a"},
		{"compression per partition", `{"compressions":{"values":["lz4","zstd"]}}`, 9,
			produce(-1, map[string][]byte{"plain": batch(0, -1, false), "lz4": batch(3, -1, false)}), false,
			map[string]int16{"plain": pv, "lz4": 0}, "BLOCK:plain"},
		{"idempotence required", `{"idempotenceRequired":{"value":true}}`, 9,
			produce(-1, map[string][]byte{"idem": batch(0, 7, false), "plain": batch(0, -1, false)}), false,
			map[string]int16{"idem": 0, "plain": pv}, "BLOCK:plain"},
		{"transactions required", `{"transactionRequired":{"value":true}}`, 9,
			produce(-1, map[string][]byte{"txn": batch(0, 7, true), "plain": batch(0, 7, false)}), false,
			map[string]int16{"txn": 0, "plain": pv}, "BLOCK:plain"},
		{"transactions INFO", `{"transactionRequired":{"value":true,"action":"INFO"}}`, 9,
			produce(-1, map[string][]byte{"plain": batch(0, 7, false)}), false, map[string]int16{"plain": 0}, "INFO:plain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			codes, whole, ev := run(t, c.config, c.version, c.req)
			if whole != c.whole {
				t.Errorf("whole request refused = %v, want %v", whole, c.whole)
			}
			for topic, want := range c.codes {
				if codes[topic] != want {
					t.Errorf("topic %s: code %d, want %d (all %v)", topic, codes[topic], want, codes)
				}
			}
			if ev != c.events {
				t.Errorf("events %q, want %q", ev, c.events)
			}
		})
	}
}

// withHeaders encodes a gzip batch of records, the i-th carrying
// headers[i] headers, as a producer would send it.
func withHeaders(t *testing.T, headers ...int) []byte {
	t.Helper()
	var rs []kmsg.Record
	for i, n := range headers {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte("v")}
		for range n {
			r.Headers = append(r.Headers, kmsg.Header{Key: "trace", Value: []byte("x")})
		}
		rs = append(rs, r)
	}
	// Start from an uncompressed batch and let records re-encode it
	// with gzip, the codec the header names.
	var raw []byte
	for _, r := range rs {
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the body after a one-byte zero length
		raw = r.AppendTo(raw)
	}
	b := kmsg.RecordBatch{Magic: 2, Attributes: 1, ProducerID: -1, NumRecords: int32(len(rs)), LastOffsetDelta: int32(len(rs) - 1)}
	plain := b
	plain.Attributes = 0
	plain.Records = raw
	plain.Length = int32(len(plain.AppendTo(nil)) - 12)
	enc := plain.AppendTo(nil)
	binary.BigEndian.PutUint32(enc[17:21], crc32.Checksum(enc[21:], crc32.MakeTable(crc32.Castagnoli)))
	out, err := records.Rewrite(enc, func(x *records.Batch) (bool, error) {
		x.Header.Attributes = 1
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRecordHeaderRequired(t *testing.T) {
	pv := kerr.PolicyViolation.Code
	req := produce(-1, map[string][]byte{"with": withHeaders(t, 1, 2), "without": withHeaders(t, 1, 0, 1)})
	codes, whole, ev := run(t, `{"recordHeaderRequired":{"value":true}}`, 9, req)
	if whole || codes["with"] != 0 || codes["without"] != pv || ev != "BLOCK:without" {
		t.Errorf("codes %v, whole %v, events %s", codes, whole, ev)
	}
	req = produce(-1, map[string][]byte{"without": withHeaders(t, 0)})
	if codes, _, ev := run(t, `{"recordHeaderRequired":{"value":true,"action":"INFO"}}`, 9, req); codes["without"] != 0 || ev != "INFO:without" {
		t.Errorf("INFO: codes %v, events %s", codes, ev)
	}
}

// TestRefusedPartitionLeavesRequest checks the broker never sees a
// refused partition, and a topic left empty is dropped.
func TestRefusedPartitionLeavesRequest(t *testing.T) {
	req := produce(-1, map[string][]byte{"plain": batch(0, -1, false)})
	p, _ := interceptor.Lookup("ProducePolicy")
	inst, err := p.New(json.RawMessage(`{"compressions":{"values":["ZSTD"]}}`), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "p", Plugin: p.Name, Interceptor: inst}}, nil, interceptor.Node{})
	if !ch.Begin(&interceptor.Conn{}, 0, 9, nil, time.Now()).Request(req) {
		t.Fatal("whole request refused")
	}
	if len(req.Topics) != 0 {
		t.Fatalf("forwarded %+v", req.Topics)
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("ProducePolicy")
	for config, field := range map[string]string{
		`{"acks":{"value":[2]}}`:                                      "acks.value[0]",
		`{"acks":{"action":"BLOCK"}}`:                                 "acks.value",
		`{"acks":{"value":[1],"action":"OVERRIDE"}}`:                  "acks.action",
		`{"compressions":{"values":["brotli"]}}`:                      "compressions.values[0]",
		`{"version":{"min":3,"max":1}}`:                               "version",
		`{"idempotenceRequired":{"value":true,"action":"THROTTLE"}}`:  "idempotenceRequired.action",
		`{"recordHeaderRequired":{"value":true,"action":"OVERRIDE"}}`: "recordHeaderRequired.action",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}
