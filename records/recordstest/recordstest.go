// Package recordstest builds record batches the way a producer does, for
// tests of code that reads or rewrites them.
package recordstest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Producer is the producer id, epoch and first sequence Batch writes, so
// tests can check a rewrite kept them.
const (
	ProducerID    = 4242
	ProducerEpoch = 7
	FirstSequence = 100
)

// Batch encodes recs as one magic 2 batch compressed with codec; record
// offset deltas and lengths are filled in.
func Batch(t testing.TB, codec kgo.CompressionCodec, recs ...kmsg.Record) []byte {
	t.Helper()
	var body []byte
	for i := range recs {
		r := recs[i]
		r.OffsetDelta = int32(i)
		r.Length = 0
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		body = r.AppendTo(body)
	}
	b := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: int32(len(recs) - 1), FirstTimestamp: 1_700_000_000_000,
		MaxTimestamp: 1_700_000_000_000, ProducerID: ProducerID, ProducerEpoch: ProducerEpoch,
		FirstSequence: FirstSequence, NumRecords: int32(len(recs))}
	comp, err := kgo.DefaultCompressor(codec)
	if err != nil {
		t.Fatal(err)
	}
	if comp != nil {
		packed, c := comp.Compress(new(bytes.Buffer), body)
		body, b.Attributes = packed, int16(c)
	}
	b.Records, b.Length = body, int32(49+len(body))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}
