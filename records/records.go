// Package records decodes the record batches of a Produce request or a
// Fetch response, lets a caller read or change their records, and encodes
// the changed batches again.
//
// Only data batches of magic 2 reach the caller. Control batches
// (transaction markers), older message sets (magic 0 and 1) and a batch
// cut short at the end of the data (a fetch response may end with part of
// a batch) are copied as they are. A changed batch is encoded with the
// codec it arrived with; its producer id, epoch, base sequence,
// attributes, offsets and timestamps stay as they were, and its length,
// record count and CRC-32C are computed again. A batch the caller leaves
// alone is copied byte for byte.
package records

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Batch is one decoded record batch: its header fields and its records.
// Header.Records is unused; Records holds the decoded records. A caller of
// Rewrite may change the records (keys, values, headers, timestamps) and
// the header's timestamps; the rest of the header is kept.
type Batch struct {
	Header  kmsg.RecordBatch
	Records []kmsg.Record
}

// Codec returns the batch's compression codec.
func (b *Batch) Codec() kgo.CompressionCodecType {
	return kgo.CompressionCodecType(b.Header.Attributes & codecMask)
}

const (
	headerLen  = 61   // bytes of a magic 2 batch header, records excluded
	lengthEnd  = 12   // where the batch length field ends
	magicAt    = 16   // offset of the magic byte, the same for every magic
	crcFrom    = 21   // the CRC covers the bytes from here to the batch end
	codecMask  = 0x07 // attribute bits naming the codec
	controlBit = 0x20 // attribute bit of control batches
)

var (
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
	decompressor = kgo.DefaultDecompressor()
	compressors  = map[kgo.CompressionCodecType]kgo.Compressor{}
)

func init() {
	for _, c := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		comp, err := kgo.DefaultCompressor(c)
		if err != nil {
			panic("records: " + err.Error())
		}
		_, codec := comp.Compress(new(bytes.Buffer), nil)
		compressors[codec] = comp
	}
}

// Read calls fn for every data batch in data (a partition's record
// batches) without changing anything. It stops at fn's first error.
func Read(data []byte, fn func(*Batch) error) error {
	_, err := walk(data, func(raw []byte, b *Batch) ([]byte, error) {
		return nil, fn(b)
	})
	return err
}

// Rewrite calls fn for every data batch; batches for which fn returns true
// are re-encoded, the others copied as they are. It returns data itself
// when nothing changed.
func Rewrite(data []byte, fn func(*Batch) (changed bool, err error)) ([]byte, error) {
	return walk(data, func(raw []byte, b *Batch) ([]byte, error) {
		changed, err := fn(b)
		if err != nil || !changed {
			return nil, err
		}
		return encode(b)
	})
}

// RewriteAll is Rewrite for data that must hold nothing but whole magic 2
// data batches, as a producer sends: anything else (an older message set,
// a control batch, bytes after the last batch) is an error, so no record
// escapes fn. Record encryption uses it.
func RewriteAll(data []byte, fn func(*Batch) (changed bool, err error)) ([]byte, error) {
	return walkStrict(data, true, func(raw []byte, b *Batch) ([]byte, error) {
		changed, err := fn(b)
		if err != nil || !changed {
			return nil, err
		}
		return encode(b)
	})
}

// walk splits data into batches and calls fn for each data batch with its
// bytes and its decoded form. When fn returns new bytes for a batch, they
// replace it in a copy of data; walk returns data itself when fn never
// does.
func walk(data []byte, fn func(raw []byte, b *Batch) ([]byte, error)) ([]byte, error) {
	return walkStrict(data, false, fn)
}

// walkStrict is walk; when strict, what fn cannot see is an error.
func walkStrict(data []byte, strict bool, fn func(raw []byte, b *Batch) ([]byte, error)) ([]byte, error) {
	var out []byte // nil until a batch changes
	pos := 0
	for pos < len(data) {
		rest := data[pos:]
		if len(rest) < lengthEnd {
			break // a partial trailing batch
		}
		n := int64(int32(binary.BigEndian.Uint32(rest[8:]))) + lengthEnd
		if n > int64(len(rest)) || n < lengthEnd {
			break
		}
		raw := rest[:n]
		if strict && !isData(raw) {
			return nil, fmt.Errorf("records: the batch at byte %d is not a whole magic 2 data batch", pos)
		}
		var enc []byte
		if isData(raw) {
			b, err := decode(raw)
			if err != nil {
				return nil, err
			}
			if enc, err = fn(raw, b); err != nil {
				return nil, err
			}
		}
		switch {
		case enc != nil && out == nil && pos == 0 && int(n) == len(data):
			return enc, nil // the only batch: no copy
		case enc != nil && out == nil:
			out = make([]byte, 0, len(data)+len(enc)-len(raw))
			out = append(append(out, data[:pos]...), enc...)
		case enc != nil:
			out = append(out, enc...)
		case out != nil:
			out = append(out, raw...)
		}
		pos += int(n)
	}
	if strict && pos < len(data) {
		return nil, fmt.Errorf("records: %d bytes after the last whole batch", len(data)-pos)
	}
	if out == nil {
		return data, nil
	}
	// A partial trailing batch, if any, goes through untouched.
	return append(out, data[pos:]...), nil
}

// isData reports whether raw is a whole magic 2 batch that is not a
// control batch.
func isData(raw []byte) bool {
	return len(raw) >= headerLen && raw[magicAt] == 2 &&
		binary.BigEndian.Uint16(raw[crcFrom:])&controlBit == 0
}

// decode decodes one magic 2 data batch and its records.
func decode(raw []byte) (*Batch, error) {
	b := &Batch{}
	if err := b.Header.ReadFrom(raw); err != nil {
		return nil, fmt.Errorf("records: batch at offset %d: %w", b.Header.FirstOffset, err)
	}
	body, err := decompressor.Decompress(b.Header.Records, b.Codec())
	if err != nil {
		return nil, fmt.Errorf("records: batch at offset %d: decompress %v: %w", b.Header.FirstOffset, b.Codec(), err)
	}
	b.Header.Records = nil
	if b.Header.NumRecords < 0 || int(b.Header.NumRecords) > len(body) {
		return nil, fmt.Errorf("records: batch at offset %d: bad record count %d", b.Header.FirstOffset, b.Header.NumRecords)
	}
	b.Records = make([]kmsg.Record, b.Header.NumRecords)
	for i := range b.Records {
		length, n := binary.Varint(body)
		if n <= 0 || length < 0 || int64(len(body)-n) < length {
			return nil, fmt.Errorf("records: batch at offset %d: record %d: %w", b.Header.FirstOffset, i, errTruncated)
		}
		end := n + int(length)
		if err := b.Records[i].ReadFrom(body[:end]); err != nil {
			return nil, fmt.Errorf("records: batch at offset %d: record %d: %w", b.Header.FirstOffset, i, err)
		}
		body = body[end:]
	}
	return b, nil
}

var errTruncated = errors.New("truncated record")

// encode encodes a changed batch with its original codec.
func encode(b *Batch) ([]byte, error) {
	size := headerLen
	for i := range b.Records {
		r := &b.Records[i]
		size += 32 + len(r.Key) + len(r.Value)
		for _, h := range r.Headers {
			size += 10 + len(h.Key) + len(h.Value)
		}
	}
	buf := make([]byte, headerLen, size)
	var rec []byte
	last := b.Header.LastOffsetDelta
	for i := range b.Records {
		r := &b.Records[i]
		r.Length = 0
		rec = r.AppendTo(rec[:0])
		r.Length = int32(len(rec) - 1) // the zero length took one byte
		buf = binary.AppendVarint(buf, int64(r.Length))
		buf = append(buf, rec[1:]...)
		last = max(last, r.OffsetDelta)
	}
	if comp := compressors[b.Codec()]; comp != nil {
		packed, codec := comp.Compress(new(bytes.Buffer), buf[headerLen:])
		if codec != b.Codec() {
			return nil, fmt.Errorf("records: compress %v failed", b.Codec())
		}
		buf = append(buf[:headerLen], packed...)
	}
	h := b.Header
	h.Records = nil
	h.NumRecords = int32(len(b.Records))
	h.LastOffsetDelta = last
	h.Length = int32(len(buf) - lengthEnd)
	h.AppendTo(buf[:0])
	binary.BigEndian.PutUint32(buf[17:], crc32.Checksum(buf[crcFrom:], castagnoli))
	return buf, nil
}
