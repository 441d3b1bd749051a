package concentration

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/records"
	"github.com/strait-gateway/strait/records/recordstest"
)

// setAttributes changes a batch's attributes and fixes its CRC.
func setAttributes(b []byte, attrs int16) []byte {
	b = slices.Clone(b)
	binary.BigEndian.PutUint16(b[21:], uint16(attrs))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func rec(value string, headers ...string) kmsg.Record {
	r := kmsg.Record{Value: []byte(value)}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, kmsg.Header{Key: headers[i], Value: []byte(headers[i+1])})
	}
	return r
}

// readBatches decodes every data batch of data.
func readBatches(t *testing.T, data []byte) []*records.Batch {
	t.Helper()
	var bs []*records.Batch
	if err := records.Read(data, func(b *records.Batch) error { bs = append(bs, b); return nil }); err != nil {
		t.Fatal(err)
	}
	return bs
}

func TestTag(t *testing.T) {
	for _, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		first := recordstest.Batch(t, codec,
			rec("v0", "app", "1", TopicHeader, "forged", PartitionHeader, "9", "app2", "2"),
			rec("v1"))
		second := recordstest.Batch(t, codec, rec("v2", PartitionHeader, "3"))
		wantCodec := readBatches(t, first)[0].Codec()
		out, last, err := tag(append(slices.Clone(first), second...), testID, 4)
		if err != nil {
			t.Fatal(err)
		}
		if last != 2 {
			t.Errorf("%v: last offset delta %d, want 2", wantCodec, last)
		}
		bs := readBatches(t, out)
		if len(bs) != 2 {
			t.Fatalf("%v: %d batches", wantCodec, len(bs))
		}
		var got [][]kmsg.Header
		var values []string
		for _, b := range bs {
			if b.Codec() != wantCodec {
				t.Errorf("codec %v became %v", wantCodec, b.Codec())
			}
			if h := b.Header; h.ProducerID != -1 || h.ProducerEpoch != -1 || h.FirstSequence != -1 {
				t.Errorf("%v: producer id %d epoch %d sequence %d not cleared", wantCodec, h.ProducerID, h.ProducerEpoch, h.FirstSequence)
			}
			for _, r := range b.Records {
				got = append(got, r.Headers)
				values = append(values, string(r.Value))
			}
		}
		idText := []byte(testID.String())
		want := [][]kmsg.Header{
			{{Key: "app", Value: []byte("1")}, {Key: "app2", Value: []byte("2")}, {Key: TopicHeader, Value: idText}, {Key: PartitionHeader, Value: []byte("4")}},
			{{Key: TopicHeader, Value: idText}, {Key: PartitionHeader, Value: []byte("4")}},
			{{Key: TopicHeader, Value: idText}, {Key: PartitionHeader, Value: []byte("4")}},
		}
		if !slices.Equal(values, []string{"v0", "v1", "v2"}) || !headersEqual(got, want) {
			t.Errorf("%v: values %q headers %q", wantCodec, values, got)
		}
	}
}

func headersEqual(a, b [][]kmsg.Header) bool {
	return slices.EqualFunc(a, b, func(x, y []kmsg.Header) bool {
		return slices.EqualFunc(x, y, func(h, k kmsg.Header) bool { return h.Key == k.Key && bytes.Equal(h.Value, k.Value) })
	})
}

func TestTagRefuses(t *testing.T) {
	plain := recordstest.Batch(t, kgo.NoCompression(), rec("v"))
	for name, data := range map[string][]byte{
		"transactional": setAttributes(plain, 0x10),
		"control":       setAttributes(plain, 0x20),
		"trailing":      append(slices.Clone(plain), 1, 2, 3),
		"garbage":       bytes.Repeat([]byte{0xff}, 80),
	} {
		if out, _, err := tag(data, testID, 0); err == nil {
			t.Errorf("%s: accepted, gave %d bytes", name, len(out))
		}
	}
}

func produceTopic(v int16, name string, id ID, parts map[int32][]byte) kmsg.ProduceRequestTopic {
	t := kmsg.NewProduceRequestTopic()
	t.Topic, t.TopicID = names(v, name, id)
	for _, p := range slices.Sorted(maps.Keys(parts)) {
		pt := kmsg.NewProduceRequestTopicPartition()
		pt.Partition, pt.Records = p, parts[p]
		t.Partitions = append(t.Partitions, pt)
	}
	return t
}

func produceAnswer(v int16, name string, id ID, base map[int32]int64) kmsg.ProduceResponseTopic {
	t := kmsg.NewProduceResponseTopic()
	t.Topic, t.TopicID = names(v, name, id)
	for _, p := range slices.Sorted(maps.Keys(base)) {
		pt := kmsg.NewProduceResponseTopicPartition()
		pt.Partition, pt.BaseOffset = p, base[p]
		t.Partitions = append(t.Partitions, pt)
	}
	return t
}

// partitionsOf lists a Produce's partitions as topic → partition →
// records, topics keyed by name or, by id, by the id's text.
func partitionsOf(r *kmsg.ProduceRequest) map[string]map[int32][]byte {
	m := map[string]map[int32][]byte{}
	for _, t := range r.Topics {
		k := t.Topic
		if r.GetVersion() >= 13 {
			k = ID(t.TopicID).String()
		}
		if m[k] == nil {
			m[k] = map[int32][]byte{}
		}
		for _, p := range t.Partitions {
			if _, dup := m[k][p.Partition]; dup {
				panic("a partition named twice in one request")
			}
			m[k][p.Partition] = p.Records
		}
	}
	return m
}

func TestProduceExchange(t *testing.T) {
	for _, v := range []int16{9, 13} {
		t.Run(kmsg.NameForKey(0)+strconv.Itoa(int(v)), func(t *testing.T) {
			fx := newFixture(t)
			key := func(name string, id ID) string {
				if v >= 13 {
					return id.String()
				}
				return name
			}
			plain := recordstest.Batch(t, kgo.NoCompression(), rec("plain"))
			r := kmsg.NewPtrProduceRequest()
			r.SetVersion(v)
			r.Acks, r.TimeoutMillis = -1, 1234
			r.Topics = []kmsg.ProduceRequestTopic{
				produceTopic(v, "plain", idPlain, map[int32][]byte{0: plain}),
				produceTopic(v, "a", idA, map[int32][]byte{
					0: recordstest.Batch(t, kgo.NoCompression(), rec("a0-0"), rec("a0-1")),
					1: recordstest.Batch(t, kgo.NoCompression(), rec("a1-0"), rec("a1-1")),
					7: recordstest.Batch(t, kgo.NoCompression(), rec("out of range")),
				}),
				produceTopic(v, "b", idB, map[int32][]byte{0: recordstest.Batch(t, kgo.NoCompression(), rec("b0"))}),
			}
			x, err := fx.x.c.Request(t.Context(), r, nil)
			if err != nil || x == nil {
				t.Fatalf("Request: %v, %v", x, err)
			}
			main := partitionsOf(r)
			if len(main) != 3 || !bytes.Equal(main[key("plain", idPlain)][0], plain) ||
				len(main[key("phys", idPhys)]) != 1 || len(main[key("cmp", idCmp)]) != 1 {
				t.Fatalf("translated request: %v", main)
			}
			if len(x.Extra) != 1 {
				t.Fatalf("%d extra requests, want 1", len(x.Extra))
			}
			e := x.Extra[0].(*kmsg.ProduceRequest)
			if e.GetVersion() != v || e.Acks != -1 || e.TimeoutMillis != 1234 {
				t.Errorf("extra request version %d acks %d timeout %d", e.GetVersion(), e.Acks, e.TimeoutMillis)
			}
			extra := partitionsOf(e)
			if len(extra) != 1 || len(extra[key("phys", idPhys)]) != 1 {
				t.Fatalf("extra request: %v", extra)
			}
			checkTagged(t, main[key("phys", idPhys)][0], idA, "0", "a0-0", "a0-1")
			checkTagged(t, extra[key("phys", idPhys)][0], idA, "1", "a1-0", "a1-1")
			checkTagged(t, main[key("cmp", idCmp)][0], idB, "0", "b0")

			// The log of phys/0 as the follower read it: a1 had two
			// records before, a0 one.
			for _, w := range []struct {
				off int64
				p   int32
			}{{97, 1}, {98, 1}, {99, 0}, {100, 0}, {101, 0}, {102, 1}, {103, 1}} {
				fx.phys0.Append(w.off, fx.a.Tag(w.p))
			}
			resp := kmsg.NewPtrProduceResponse()
			resp.SetVersion(v)
			resp.Topics = []kmsg.ProduceResponseTopic{
				produceAnswer(v, "plain", idPlain, map[int32]int64{0: 7}),
				produceAnswer(v, "phys", idPhys, map[int32]int64{0: 100}),
				produceAnswer(v, "cmp", idCmp, map[int32]int64{0: 555}),
			}
			extraResp := kmsg.NewPtrProduceResponse()
			extraResp.SetVersion(v)
			extraResp.Topics = []kmsg.ProduceResponseTopic{produceAnswer(v, "phys", idPhys, map[int32]int64{0: 102})}
			if err := x.Response(resp, []kmsg.Response{extraResp}); err != nil {
				t.Fatal(err)
			}
			got := map[string]map[int32]kmsg.ProduceResponseTopicPartition{}
			for _, rt := range resp.Topics {
				k := rt.Topic
				if v >= 13 {
					k = ID(rt.TopicID).String()
				}
				got[k] = map[int32]kmsg.ProduceResponseTopicPartition{}
				for _, p := range rt.Partitions {
					got[k][p.Partition] = p
				}
			}
			want := map[string]map[int32][2]int64{ // partition → base offset, error code
				key("plain", idPlain): {0: {7, 0}},
				key("a", idA):         {0: {1, 0}, 1: {2, 0}, 7: {-1, int64(kerr.UnknownTopicOrPartition.Code)}},
				key("b", idB):         {0: {555, 0}},
			}
			if len(got) != len(want) {
				t.Errorf("response topics %v, want %v", slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(want)))
			}
			for k, ps := range want {
				if len(got[k]) != len(ps) {
					t.Errorf("topic %s: partitions %v", k, got[k])
				}
				for p, w := range ps {
					g, ok := got[k][p]
					if !ok || g.BaseOffset != w[0] || int64(g.ErrorCode) != w[1] {
						t.Errorf("topic %s partition %d: base %d error %d, want %d %d", k, p, g.BaseOffset, g.ErrorCode, w[0], w[1])
					}
				}
			}
		})
	}
}

// checkTagged checks that data holds the values given, each tagged
// with id and partition.
func checkTagged(t *testing.T, data []byte, id ID, partition string, values ...string) {
	t.Helper()
	var got []string
	for _, b := range readBatches(t, data) {
		for _, r := range b.Records {
			tg, ok := parseTag(headerValue(r.Headers, TopicHeader), headerValue(r.Headers, PartitionHeader))
			if !ok || tg.Topic != id || strconv.Itoa(int(tg.Partition)) != partition {
				t.Errorf("record %q tagged %v, %v; want %s/%s", r.Value, tg, ok, id, partition)
			}
			got = append(got, string(r.Value))
		}
	}
	if !slices.Equal(got, values) {
		t.Errorf("records %q, want %q", got, values)
	}
}

func headerValue(hs []kmsg.Header, key string) []byte {
	for _, h := range hs {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}

func TestProduceRefused(t *testing.T) {
	plain := recordstest.Batch(t, kgo.NoCompression(), rec("v"))
	for _, tc := range []struct {
		name  string
		txn   bool
		batch []byte
		code  int16
	}{
		{"transactional request", true, plain, kerr.InvalidTxnState.Code},
		{"transactional batch", false, setAttributes(plain, 0x10), kerr.InvalidRecord.Code},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			r := kmsg.NewPtrProduceRequest()
			r.SetVersion(9)
			if tc.txn {
				r.TransactionID = kmsg.StringPtr("txn")
			}
			r.Topics = []kmsg.ProduceRequestTopic{produceTopic(9, "a", idA, map[int32][]byte{0: tc.batch, 1: tc.batch})}
			x, err := fx.x.c.Request(t.Context(), r, nil)
			if err != nil || x == nil {
				t.Fatalf("Request: %v, %v", x, err)
			}
			if len(r.Topics) != 0 || len(x.Extra) != 0 {
				t.Fatalf("refused partitions sent: %v, %d extra", partitionsOf(r), len(x.Extra))
			}
			resp := kmsg.NewPtrProduceResponse()
			resp.SetVersion(9)
			if err := x.Response(resp, nil); err != nil {
				t.Fatal(err)
			}
			if len(resp.Topics) != 1 || resp.Topics[0].Topic != "a" || len(resp.Topics[0].Partitions) != 2 {
				t.Fatalf("response %+v", resp.Topics)
			}
			for _, p := range resp.Topics[0].Partitions {
				if p.ErrorCode != tc.code || p.BaseOffset != -1 {
					t.Errorf("partition %d: error %d base %d, want %d -1", p.Partition, p.ErrorCode, p.BaseOffset, tc.code)
				}
			}
		})
	}
}
