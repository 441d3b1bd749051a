package records

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var codecs = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

// batchSpec describes a batch the tests build the way a producer would.
type batchSpec struct {
	codec      kgo.CompressionCodec
	baseOffset int64
	values     []string
	control    bool
	txn        bool
}

// build encodes a batch independently of the package's encoder.
func build(t testing.TB, s batchSpec) []byte {
	t.Helper()
	var body []byte
	for i, v := range s.values {
		r := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Key: []byte(fmt.Sprint("k", i)), Value: []byte(v),
			Headers: []kmsg.Header{{Key: "h", Value: []byte("x")}, {Key: "trace", Value: []byte(fmt.Sprint(i))}}}
		rec := r.AppendTo(nil)
		r.Length = int32(len(rec) - 1)
		body = r.AppendTo(body)
	}
	b := kmsg.RecordBatch{
		FirstOffset: s.baseOffset, PartitionLeaderEpoch: 3, Magic: 2,
		LastOffsetDelta: int32(len(s.values) - 1), FirstTimestamp: 1_700_000_000_000, MaxTimestamp: 1_700_000_000_000 + int64(len(s.values)-1),
		ProducerID: 4242, ProducerEpoch: 7, FirstSequence: 100, NumRecords: int32(len(s.values)),
	}
	comp, err := kgo.DefaultCompressor(s.codec)
	if err != nil {
		t.Fatal(err)
	}
	if comp != nil {
		packed, codec := comp.Compress(new(bytes.Buffer), body)
		body = packed
		b.Attributes |= int16(codec)
	}
	if s.txn {
		b.Attributes |= 0x10
	}
	if s.control {
		b.Attributes |= 0x20
	}
	b.Records = body
	b.Length = int32(49 + len(body))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// parse reads batches with franz-go's own consumer code, which checks the
// CRC, and returns the records.
func parse(t *testing.T, data []byte) []*kgo.Record {
	t.Helper()
	p := kmsg.FetchResponseTopicPartition{RecordBatches: data, HighWatermark: 1 << 40, LastStableOffset: 1 << 40}
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t"}, &p, kgo.DefaultDecompressor(), nil)
	if fp.Err != nil {
		t.Fatalf("franz-go cannot read the result: %v", fp.Err)
	}
	return fp.Records
}

// TestRewritePerCodec changes one header of every record of the second
// batch and checks that exactly that changed, for every codec.
func TestRewritePerCodec(t *testing.T) {
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			first := build(t, batchSpec{codec: codec, values: []string{"a", "b"}})
			second := build(t, batchSpec{codec: codec, baseOffset: 2, values: []string{"c", "d", "e"}, txn: true})
			data := append(append([]byte{}, first...), second...)
			before := parse(t, data)

			out, err := Rewrite(data, func(b *Batch) (bool, error) {
				if b.Header.FirstOffset != 2 {
					return false, nil
				}
				if len(b.Records) != 3 || (name != "none") != (b.Codec() != kgo.CodecNone) {
					t.Fatalf("codec %v, %d records", b.Codec(), len(b.Records))
				}
				for i := range b.Records {
					b.Records[i].Headers[0].Value = []byte("changed")
					b.Records[i].Headers = append(b.Records[i].Headers, kmsg.Header{Key: "added", Value: []byte("yes")})
				}
				return true, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out[:len(first)], first) {
				t.Error("the unchanged first batch is not byte-identical")
			}
			var h kmsg.RecordBatch
			if err := h.ReadFrom(out[len(first):]); err != nil {
				t.Fatal(err)
			}
			if h.ProducerID != 4242 || h.ProducerEpoch != 7 || h.FirstSequence != 100 || h.Attributes != int16(second[22])|int16(second[21])<<8 ||
				h.LastOffsetDelta != 2 || h.FirstTimestamp != 1_700_000_000_000 || h.MaxTimestamp != 1_700_000_000_002 || h.PartitionLeaderEpoch != 3 {
				t.Errorf("header not preserved: %+v", h)
			}
			after := parse(t, out)
			if len(after) != len(before) {
				t.Fatalf("%d records, want %d", len(after), len(before))
			}
			for i, r := range after {
				b := before[i]
				wantHeaders := fmt.Sprint(b.Headers)
				if i >= 2 {
					wantHeaders = fmt.Sprint(append([]kgo.RecordHeader{{Key: "h", Value: []byte("changed")}, b.Headers[1]}, kgo.RecordHeader{Key: "added", Value: []byte("yes")}))
				}
				if r.Offset != b.Offset || !r.Timestamp.Equal(b.Timestamp) || string(r.Key) != string(b.Key) || string(r.Value) != string(b.Value) ||
					r.ProducerID != b.ProducerID || fmt.Sprint(r.Headers) != wantHeaders {
					t.Errorf("record %d: got %+v, want %+v with headers %s", i, r, b, wantHeaders)
				}
			}
		})
	}
}

// TestRewriteSkips checks that control batches, old message sets and a
// partial trailing batch never reach fn and pass through untouched.
func TestRewriteSkips(t *testing.T) {
	data := build(t, batchSpec{codec: kgo.NoCompression(), values: []string{"a"}})
	control := build(t, batchSpec{codec: kgo.NoCompression(), baseOffset: 1, values: []string{"marker"}, control: true, txn: true})
	old := append([]byte{}, build(t, batchSpec{codec: kgo.NoCompression(), baseOffset: 2, values: []string{"x"}})...)
	old[16] = 1 // any magic below 2 is copied, never decoded
	partial := build(t, batchSpec{codec: kgo.Lz4Compression(), baseOffset: 3, values: []string{"y", "z"}})
	data = append(append(append(append(data, control...), old...), build(t, batchSpec{codec: kgo.NoCompression(), baseOffset: 2, values: []string{"b"}})...), partial[:30]...)

	seen := 0
	out, err := Rewrite(data, func(b *Batch) (bool, error) {
		seen++
		b.Records[0].Value = []byte("new")
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 2 {
		t.Errorf("fn saw %d batches, want the 2 data batches", seen)
	}
	if !bytes.Contains(out, control) || !bytes.Contains(out, old) || !bytes.HasSuffix(out, partial[:30]) {
		t.Error("control, old or partial batch not copied untouched")
	}
	if same, _ := Rewrite(data, func(*Batch) (bool, error) { return false, nil }); &same[0] != &data[0] || len(same) != len(data) {
		t.Error("a no-op Rewrite does not return its input")
	}
}

// TestReadErrors checks that a corrupt data batch is an error, not a panic.
func TestReadErrors(t *testing.T) {
	b := build(t, batchSpec{codec: kgo.ZstdCompression(), values: []string{"a", "b"}})
	b[len(b)-3] ^= 0xff
	if err := Read(b, func(*Batch) error { return nil }); err == nil {
		t.Error("a corrupt zstd batch decoded")
	}
}

func FuzzRead(f *testing.F) {
	for _, c := range codecs {
		f.Add(build(f, batchSpec{codec: c, values: []string{"a", "bb"}}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Read(data, func(*Batch) error { return nil })
	})
}

func FuzzRewrite(f *testing.F) {
	for _, c := range codecs {
		f.Add(build(f, batchSpec{codec: c, values: []string{"a", "bb"}}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Rewrite(data, func(*Batch) (bool, error) { return false, nil })
		if err == nil && !bytes.Equal(out, data) {
			t.Fatal("a no-op Rewrite changed its input")
		}
		out, err = Rewrite(data, func(b *Batch) (bool, error) { return true, nil })
		if err != nil {
			return
		}
		// A re-encoded batch decodes to the same records.
		var again []int
		if err := Read(out, func(b *Batch) error { again = append(again, len(b.Records)); return nil }); err != nil {
			t.Fatalf("re-encoded data does not decode: %v", err)
		}
	})
}

func BenchmarkRewrite1KB(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	values := make([]string, 8)
	for i := range values {
		v := make([]byte, 1024)
		for j := range v {
			v[j] = "0123456789abcdef"[r.IntN(16)]
		}
		values[i] = string(v)
	}
	for _, name := range []string{"none", "lz4", "zstd"} {
		data := build(b, batchSpec{codec: codecs[name], values: values})
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, err := Rewrite(data, func(bt *Batch) (bool, error) {
					for i := range bt.Records {
						bt.Records[i].Headers = append(bt.Records[i].Headers, kmsg.Header{Key: "x", Value: []byte("y")})
					}
					return true, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestRewriteAllRefusesWhatItCannotSee(t *testing.T) {
	good := build(t, batchSpec{codec: kgo.NoCompression(), values: []string{"a", "b"}})
	for _, c := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"one batch", good, true},
		{"two batches", append(append([]byte{}, good...), good...), true},
		{"trailing bytes", append(append([]byte{}, good...), 0, 0, 0), false},
		{"cut short", good[:len(good)-1], false},
		{"magic 1", withByte(good, 16, 1), false},
		{"control batch", build(t, batchSpec{codec: kgo.NoCompression(), values: []string{"m"}, control: true, txn: true}), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := 0
			_, err := RewriteAll(c.data, func(b *Batch) (bool, error) {
				seen += len(b.Records)
				return true, nil
			})
			if c.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if c.ok && seen == 0 {
				t.Fatal("fn saw no record")
			}
		})
	}
}

func withByte(b []byte, at int, v byte) []byte {
	out := append([]byte{}, b...)
	out[at] = v
	return out
}
