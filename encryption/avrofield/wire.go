package avrofield

import (
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"
)

// maxDepth bounds how deeply schemas are followed, so that recursive
// schemas and hostile data cannot exhaust the stack.
const maxDepth = 1000

// maxZeroWidthItems bounds how many items of a type that encodes in zero
// bytes (null, fixed(0), records of such) an array selected by a path may
// hold; without it a tiny body could claim billions of them.
const maxZeroWidthItems = 1 << 16

var (
	errTruncated = errors.New("avrofield: truncated data")
	errVarint    = errors.New("avrofield: varint longer than 10 bytes")
	errDepth     = errors.New("avrofield: data or schema nested too deeply")
)

// readLong decodes the zig-zag varint at b[pos:] and returns it with the
// position after it.
func readLong(b []byte, pos int) (int64, int, error) {
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if pos >= len(b) {
			return 0, pos, errTruncated
		}
		c := b[pos]
		pos++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), pos, nil
		}
	}
	return 0, pos, errVarint
}

// appendLong appends v as a zig-zag varint.
func appendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// readLen reads a length or size prefix and checks that that many bytes
// follow.
func readLen(b []byte, pos int) (int, int, error) {
	n, pos, err := readLong(b, pos)
	if err != nil {
		return 0, pos, err
	}
	if n < 0 {
		return 0, pos, fmt.Errorf("avrofield: negative length %d at offset %d", n, pos)
	}
	if n > int64(len(b)-pos) {
		return 0, pos, errTruncated
	}
	return int(n), pos, nil
}

// readBlockCount reads the header of an array or map block: the item
// count and, for a negative count, the byte size of the block that
// follows (-1 otherwise).
func readBlockCount(b []byte, pos int) (count int64, size int, next int, err error) {
	count, next, err = readLong(b, pos)
	if err != nil || count >= 0 {
		return count, -1, next, err
	}
	count = -count
	if count < 0 {
		return 0, 0, next, fmt.Errorf("avrofield: bad block count at offset %d", pos)
	}
	size, next, err = readLen(b, next)
	return count, size, next, err
}

// readUnion reads a union's branch index and returns the branch schema.
func readUnion(b []byte, s *avro.UnionSchema, pos int) (int, avro.Schema, int, error) {
	i, next, err := readLong(b, pos)
	if err != nil {
		return 0, nil, next, err
	}
	types := s.Types()
	if i < 0 || i >= int64(len(types)) {
		return 0, nil, next, fmt.Errorf("avrofield: union branch %d out of range at offset %d", i, pos)
	}
	return int(i), types[i], next, nil
}

// skip returns the position just after the value of schema s that starts
// at b[pos:].
func skip(b []byte, s avro.Schema, pos, depth int) (int, error) {
	if depth > maxDepth {
		return pos, errDepth
	}
	switch s := s.(type) {
	case *avro.NullSchema:
		return pos, nil
	case *avro.PrimitiveSchema:
		return skipPrimitive(b, s.Type(), pos)
	case *avro.RecordSchema:
		var err error
		for _, f := range s.Fields() {
			if pos, err = skip(b, f.Type(), pos, depth+1); err != nil {
				return pos, err
			}
		}
		return pos, nil
	case *avro.RefSchema:
		return skip(b, s.Schema(), pos, depth+1)
	case *avro.UnionSchema:
		_, branch, next, err := readUnion(b, s, pos)
		if err != nil {
			return next, err
		}
		return skip(b, branch, next, depth+1)
	case *avro.EnumSchema:
		i, next, err := readLong(b, pos)
		if err == nil && (i < 0 || i >= int64(len(s.Symbols()))) {
			err = fmt.Errorf("avrofield: enum index %d out of range at offset %d", i, pos)
		}
		return next, err
	case *avro.FixedSchema:
		if s.Size() > len(b)-pos {
			return pos, errTruncated
		}
		return pos + s.Size(), nil
	case *avro.ArraySchema:
		return skipBlocks(b, false, s.Items(), pos, depth)
	case *avro.MapSchema:
		return skipBlocks(b, true, s.Values(), pos, depth)
	}
	return pos, fmt.Errorf("avrofield: unsupported schema %T", s)
}

// skipPrimitive skips one value of a primitive type.
func skipPrimitive(b []byte, t avro.Type, pos int) (int, error) {
	var width int
	switch t {
	case avro.Int, avro.Long:
		_, next, err := readLong(b, pos)
		return next, err
	case avro.String, avro.Bytes:
		n, next, err := readLen(b, pos)
		return next + n, err
	case avro.Boolean:
		if pos < len(b) && b[pos] > 1 {
			return pos, fmt.Errorf("avrofield: bad boolean %d at offset %d", b[pos], pos)
		}
		width = 1
	case avro.Float:
		width = 4
	case avro.Double:
		width = 8
	case avro.Null:
		return pos, nil
	default:
		return pos, fmt.Errorf("avrofield: unsupported type %q", t)
	}
	if width > len(b)-pos {
		return pos, errTruncated
	}
	return pos + width, nil
}

// skipBlocks skips an array or, when isMap, a map whose values are items.
// Blocks that carry their byte size are jumped over whole.
func skipBlocks(b []byte, isMap bool, items avro.Schema, pos, depth int) (int, error) {
	for {
		count, size, next, err := readBlockCount(b, pos)
		if err != nil || count == 0 {
			return next, err
		}
		pos = next
		if size >= 0 {
			pos += size
			continue
		}
		if count > int64(len(b)-pos) {
			if isMap || !zeroWidth(items, depth+1) {
				return pos, errTruncated
			}
			continue // every item is zero bytes long
		}
		for ; count > 0; count-- {
			if isMap {
				if pos, err = skipPrimitive(b, avro.String, pos); err != nil {
					return pos, err
				}
			}
			if pos, err = skip(b, items, pos, depth+1); err != nil {
				return pos, err
			}
		}
	}
}

// zeroWidth reports whether every value of s encodes in zero bytes.
func zeroWidth(s avro.Schema, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch s := s.(type) {
	case *avro.NullSchema:
		return true
	case *avro.FixedSchema:
		return s.Size() == 0
	case *avro.RefSchema:
		return zeroWidth(s.Schema(), depth+1)
	case *avro.RecordSchema:
		for _, f := range s.Fields() {
			if !zeroWidth(f.Type(), depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
