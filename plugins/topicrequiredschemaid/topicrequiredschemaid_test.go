package topicrequiredschemaid

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
)

// batch encodes one zstd producer batch; a nil value is a tombstone.
func batch(values ...[]byte) []byte {
	var body []byte
	for i, v := range values {
		r := kmsg.Record{OffsetDelta: int32(i), Value: v}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		body = r.AppendTo(body)
	}
	b := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: int32(len(values) - 1), ProducerID: -1, FirstSequence: -1, NumRecords: int32(len(values))}
	comp, _ := kgo.DefaultCompressor(kgo.ZstdCompression())
	body, codec := comp.Compress(new(bytes.Buffer), body)
	b.Attributes = int16(codec)
	b.Records, b.Length = body, int32(49+len(body))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// corrupt breaks a batch's compressed records.
func corrupt(b []byte) []byte {
	for i := 61; i < len(b); i++ {
		b[i] ^= 0x5a
	}
	return b
}

var (
	withID = []byte{0, 0, 0, 0, 42, 'h', 'i'}
	plain  = []byte("hello")
)

// run sends a produce request for orders partitions 0 and 1 and logs
// partition 0 through the policy and a broker that accepts whatever
// reaches it. It returns the partitions forwarded and each partition's
// error code in the response.
func run(t *testing.T, config string, acks int16, orders0, orders1, logs0 []byte) (forwarded []string, codes map[string]int16, resp *kmsg.ProduceResponse, ev *interceptortest.Events) {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.safeguard.TopicRequiredSchemaIdPolicyPlugin")
	if !ok {
		t.Fatal("the Conduktor class name is not an alias")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev = &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "schema", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = acks
	for _, tp := range []struct {
		topic string
		parts [][]byte
	}{{"orders", [][]byte{orders0, orders1}}, {"logs", [][]byte{logs0}}} {
		topic := kmsg.NewProduceRequestTopic()
		topic.Topic = tp.topic
		for i, data := range tp.parts {
			pt := kmsg.NewProduceRequestTopicPartition()
			pt.Partition, pt.Records = int32(i), data
			topic.Partitions = append(topic.Partitions, pt)
		}
		req.Topics = append(req.Topics, topic)
	}
	call := ch.Begin(&interceptor.Conn{VCluster: "passthrough"}, req.Key(), 9, nil, time.Now())
	if !call.Request(req) {
		t.Fatal("the whole request was refused")
	}
	resp = req.ResponseKind().(*kmsg.ProduceResponse)
	resp.SetVersion(9)
	for _, tp := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = tp.Topic
		for _, pt := range tp.Partitions {
			forwarded = append(forwarded, tp.Topic+"/"+string(rune('0'+pt.Partition)))
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = pt.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if acks != 0 {
		call.Response(resp)
	}
	codes = map[string]int16{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			codes[rt.Topic+"/"+string(rune('0'+rp.Partition))] = rp.ErrorCode
		}
	}
	return forwarded, codes, resp, ev
}

func TestPolicy(t *testing.T) {
	bad := kerr.InvalidRecord.Code
	for _, tc := range []struct {
		name, config            string
		orders0, orders1, logs0 []byte
		forwarded               string
		codes                   map[string]int16
		events                  string
	}{
		{"block refuses only the bad partition", `{"topic":"orders","schemaIdRequired":true}`,
			batch(withID, withID), batch(withID, plain), batch(plain),
			"orders/0,logs/0", map[string]int16{"orders/0": 0, "orders/1": bad, "logs/0": 0}, "BLOCK:orders"},
		{"tombstones comply", `{"topic":"orders"}`,
			batch(withID, nil), batch(nil), batch(plain),
			"orders/0,orders/1,logs/0", map[string]int16{"orders/0": 0, "orders/1": 0, "logs/0": 0}, ""},
		{"whole topic refused", `{"topic":"orders","action":"block"}`,
			batch(plain), batch([]byte{0, 1}), batch(plain),
			"logs/0", map[string]int16{"orders/0": bad, "orders/1": bad, "logs/0": 0}, "BLOCK:orders,BLOCK:orders"},
		{"forbidden schema id", `{"schemaIdRequired":false}`,
			batch(plain), batch(withID), batch(plain),
			"orders/0,logs/0", map[string]int16{"orders/0": 0, "orders/1": bad, "logs/0": 0}, "BLOCK:orders"},
		{"info", `{"action":"INFO"}`,
			batch(plain), batch(withID), batch(withID),
			"orders/0,orders/1,logs/0", map[string]int16{"orders/0": 0, "orders/1": 0, "logs/0": 0}, "INFO:orders"},
		{"undecodable data refused", `{"topic":"orders"}`,
			corrupt(batch(withID)), batch(withID), batch(plain),
			"orders/1,logs/0", map[string]int16{"orders/0": bad, "orders/1": 0, "logs/0": 0}, "BLOCK:orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw, codes, resp, ev := run(t, tc.config, -1, tc.orders0, tc.orders1, tc.logs0)
			if got := strings.Join(fw, ","); got != tc.forwarded {
				t.Errorf("forwarded %s, want %s", got, tc.forwarded)
			}
			for k, want := range tc.codes {
				if codes[k] != want {
					t.Errorf("%s: code %d, want %d", k, codes[k], want)
				}
			}
			if got := ev.String(); got != tc.events {
				t.Errorf("events %s, want %s", got, tc.events)
			}
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					if rp.ErrorCode != 0 && (rp.ErrorMessage == nil || !strings.Contains(*rp.ErrorMessage, "schema")) {
						t.Errorf("%s/%d: no message naming the policy", rt.Topic, rp.Partition)
					}
				}
			}
		})
	}
}

// TestAcksZero checks that with acks=0 the refused partitions are dropped
// and nothing waits for the response.
func TestAcksZero(t *testing.T) {
	fw, _, _, ev := run(t, `{}`, 0, batch(plain), batch(withID), batch(plain))
	if strings.Join(fw, ",") != "orders/1" || len(ev.List()) != 2 {
		t.Errorf("forwarded %v, events %v", fw, ev.List())
	}
}

func TestConfig(t *testing.T) {
	p, _ := interceptor.Lookup("TopicRequiredSchemaIdPolicy")
	for config, field := range map[string]string{
		`{"action":"OVERRIDE"}`:         "action",
		`{"action":"THROTTLE"}`:         "action",
		`{"schemaIdRequired":"yes"}`:    "schemaIdRequired",
		`{"topic":"[","action":"INFO"}`: "topic",
		`{"other":true}`:                "other",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		var ce *interceptor.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: got %v, want an error on %s", config, err, field)
		}
	}
}
