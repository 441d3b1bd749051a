// Package avrojson converts Avro binary values to JSON text and back,
// directed by the writer's schema. The schemaDataMode convert_json of the
// encryption plugins stores Avro values as this JSON so that encrypted
// fields can hold text whatever their Avro type.
//
// The JSON form is plain, not Avro's own JSON encoding: record fields in
// schema order, a union as the value of its branch (null as null), bytes
// and fixed as standard base64 strings, an enum as its symbol, a map as
// an object with sorted keys, a logical type as its underlying type, and
// floats that JSON cannot hold (NaN, ±Inf) as the strings "NaN",
// "Infinity" and "-Infinity". Longs are written exactly.
package avrojson

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
)

// MaxDepth bounds the nesting of the values converted.
const MaxDepth = 64

// SchemaHeader is the record header that marks a value stored as JSON by
// the encryption plugins' convert_json mode: it holds, in decimal, the
// schema id of the Avro value the JSON stands for.
const SchemaHeader = "strait.encryption.schema"

// ToJSON returns the JSON text of an Avro binary body of schema s. The
// body must hold exactly one value.
func ToJSON(s avro.Schema, body []byte) ([]byte, error) {
	r := &reader{b: body, budget: len(body) + 1<<16}
	out, err := r.value(nil, s, 0)
	if err != nil {
		return nil, err
	}
	if r.pos != len(body) {
		return nil, fmt.Errorf("avrojson: %d bytes after the value", len(body)-r.pos)
	}
	return out, nil
}

// reader walks Avro binary. budget bounds the array and map items read,
// as items of zero width (null, empty records) cost no bytes.
type reader struct {
	b      []byte
	pos    int
	budget int
}

var errShort = errors.New("avrojson: the value ends early")

// long reads a zigzag varint.
func (r *reader) long() (int64, error) {
	var u uint64
	for shift := 0; shift < 64; shift += 7 {
		if r.pos >= len(r.b) {
			return 0, errShort
		}
		c := r.b[r.pos]
		r.pos++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, errors.New("avrojson: varint longer than 10 bytes")
}

// take reads n bytes.
func (r *reader) take(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(r.b)-r.pos) {
		return nil, errShort
	}
	out := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return out, nil
}

// sized reads a length-prefixed byte string.
func (r *reader) sized() ([]byte, error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	return r.take(n)
}

// value appends the JSON of the value of schema s at the reader's
// position.
func (r *reader) value(out []byte, s avro.Schema, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("avrojson: nesting deeper than %d", MaxDepth)
	}
	switch x := s.(type) {
	case *avro.RefSchema:
		return r.value(out, x.Schema(), depth)
	case *avro.NullSchema:
		return append(out, "null"...), nil
	case *avro.PrimitiveSchema:
		return r.primitive(out, x.Type())
	case *avro.RecordSchema:
		out = append(out, '{')
		for i, f := range x.Fields() {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendString(out, f.Name())
			out = append(out, ':')
			var err error
			if out, err = r.value(out, f.Type(), depth+1); err != nil {
				return nil, err
			}
		}
		return append(out, '}'), nil
	case *avro.EnumSchema:
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(x.Symbols())) {
			return nil, fmt.Errorf("avrojson: enum %s has no symbol %d", x.Name(), i)
		}
		return appendString(out, x.Symbols()[i]), nil
	case *avro.FixedSchema:
		b, err := r.take(int64(x.Size()))
		if err != nil {
			return nil, err
		}
		return appendBase64(out, b), nil
	case *avro.UnionSchema:
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(x.Types())) {
			return nil, fmt.Errorf("avrojson: union has no branch %d", i)
		}
		return r.value(out, x.Types()[i], depth+1)
	case *avro.ArraySchema:
		out = append(out, '[')
		n := 0
		err := r.blocks(func() error {
			if n > 0 {
				out = append(out, ',')
			}
			n++
			var err error
			out, err = r.value(out, x.Items(), depth+1)
			return err
		})
		if err != nil {
			return nil, err
		}
		return append(out, ']'), nil
	case *avro.MapSchema:
		type entry struct {
			key  string
			json []byte
		}
		var entries []entry
		err := r.blocks(func() error {
			k, err := r.sized()
			if err != nil {
				return err
			}
			if !utf8.Valid(k) {
				return errors.New("avrojson: a map key is not UTF-8")
			}
			v, err := r.value(nil, x.Values(), depth+1)
			entries = append(entries, entry{string(k), v})
			return err
		})
		if err != nil {
			return nil, err
		}
		slices.SortStableFunc(entries, func(a, b entry) int { return compare(a.key, b.key) })
		out = append(out, '{')
		for i, e := range entries {
			if i > 0 {
				if e.key == entries[i-1].key {
					return nil, errors.New("avrojson: a map repeats a key")
				}
				out = append(out, ',')
			}
			out = append(appendString(out, e.key), ':')
			out = append(out, e.json...)
		}
		return append(out, '}'), nil
	}
	return nil, fmt.Errorf("avrojson: unsupported schema type %s", s.Type())
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// blocks reads the blocks of an array or map, calling item for each item.
func (r *reader) blocks(item func() error) error {
	for {
		n, err := r.long()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			if n == math.MinInt64 {
				return errors.New("avrojson: bad block count")
			}
			n = -n
			if _, err := r.long(); err != nil { // the block's size in bytes
				return err
			}
		}
		if n > int64(r.budget) {
			return errors.New("avrojson: more array or map items than the value can hold")
		}
		r.budget -= int(n)
		for ; n > 0; n-- {
			if err := item(); err != nil {
				return err
			}
		}
	}
}

// primitive appends the JSON of a primitive value.
func (r *reader) primitive(out []byte, t avro.Type) ([]byte, error) {
	switch t {
	case avro.Boolean:
		b, err := r.take(1)
		if err != nil {
			return nil, err
		}
		switch b[0] {
		case 0:
			return append(out, "false"...), nil
		case 1:
			return append(out, "true"...), nil
		}
		return nil, errors.New("avrojson: a boolean is neither 0 nor 1")
	case avro.Int, avro.Long:
		n, err := r.long()
		if err != nil {
			return nil, err
		}
		if t == avro.Int && int64(int32(n)) != n {
			return nil, errors.New("avrojson: an int out of range")
		}
		return strconv.AppendInt(out, n, 10), nil
	case avro.Float:
		b, err := r.take(4)
		if err != nil {
			return nil, err
		}
		f := math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		return appendFloat(out, float64(f), 32), nil
	case avro.Double:
		b, err := r.take(8)
		if err != nil {
			return nil, err
		}
		var u uint64
		for i := 7; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		return appendFloat(out, math.Float64frombits(u), 64), nil
	case avro.String:
		b, err := r.sized()
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			return nil, errors.New("avrojson: a string is not UTF-8")
		}
		return appendString(out, string(b)), nil
	case avro.Bytes:
		b, err := r.sized()
		if err != nil {
			return nil, err
		}
		return appendBase64(out, b), nil
	}
	return nil, fmt.Errorf("avrojson: unsupported primitive type %s", t)
}

// appendFloat writes a float, NaN and infinities as strings.
func appendFloat(out []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(out, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(out, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(out, `"-Infinity"`...)
	}
	return strconv.AppendFloat(out, f, 'g', -1, bits)
}

func appendBase64(out, b []byte) []byte {
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, b)
	return append(out, '"')
}

// appendString writes s, valid UTF-8, as a JSON string.
func appendString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
