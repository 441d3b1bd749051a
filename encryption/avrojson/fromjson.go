package avrojson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/hamba/avro/v2"

	"github.com/strait-gateway/strait/fieldpath"
)

// blockLength is how many items an array or map block holds, as hamba's
// encoder writes them, so that converting hamba's output to JSON and back
// gives the same bytes.
const blockLength = 100

// FromJSON returns the Avro binary body of schema s that the JSON text
// doc, as ToJSON writes it, holds. The values at the concrete paths of
// zero (no [*]) are written as the zero of their type instead, whatever
// doc holds there: false, 0, "", empty bytes, arrays and maps, a fixed of
// zero bytes, an enum's first symbol, null for a union with a null branch
// (else the zero of its first branch), and a record of zeros.
//
// A union takes the first branch the JSON value fits, null first; so a
// value of a later branch that an earlier one also fits (bytes after
// string, long after int) comes back in the earlier branch. A record
// field missing from doc takes its schema default.
func FromJSON(s avro.Schema, doc []byte, zero ...fieldpath.Path) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("avrojson: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("avrojson: data after the JSON value")
	}
	w := writer{zero: zero}
	return w.value(nil, s, v, 0)
}

// writer writes Avro binary, following path so as to zero the values at
// the paths of zero.
type writer struct {
	path fieldpath.Path
	zero []fieldpath.Path
}

// value appends the Avro binary of v as a value of schema s.
func (w *writer) value(out []byte, s avro.Schema, v any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("avrojson: nesting deeper than %d", MaxDepth)
	}
	if len(w.zero) > 0 && slices.ContainsFunc(w.zero, func(p fieldpath.Path) bool { return slices.Equal(p, w.path) }) {
		return appendZero(out, s, depth)
	}
	switch x := s.(type) {
	case *avro.RefSchema:
		return w.value(out, x.Schema(), v, depth)
	case *avro.NullSchema:
		if v != nil {
			return nil, errors.New("avrojson: a null is not JSON null")
		}
		return out, nil
	case *avro.PrimitiveSchema:
		return primitive(out, x.Type(), v)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("avrojson: record %s is not a JSON object", x.Name())
		}
		for k := range m {
			if !slices.ContainsFunc(x.Fields(), func(f *avro.Field) bool { return f.Name() == k }) {
				return nil, fmt.Errorf("avrojson: record %s has no field %q", x.Name(), k)
			}
		}
		for _, f := range x.Fields() {
			fv, ok := m[f.Name()]
			var err error
			switch {
			case ok:
				w.path = append(w.path, fieldpath.Step{Name: f.Name()})
				out, err = w.value(out, f.Type(), fv, depth+1)
				w.path = w.path[:len(w.path)-1]
			case f.HasDefault():
				var b []byte
				if b, err = avro.Marshal(f.Type(), f.Default()); err == nil {
					out = append(out, b...)
				}
			default:
				err = fmt.Errorf("avrojson: record %s lacks field %s", x.Name(), f.Name())
			}
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	case *avro.EnumSchema:
		str, _ := v.(string)
		if i := slices.Index(x.Symbols(), str); i >= 0 {
			return appendLong(out, int64(i)), nil
		}
		return nil, fmt.Errorf("avrojson: not a symbol of enum %s", x.Name())
	case *avro.FixedSchema:
		b, err := decodeBase64(v)
		if err != nil {
			return nil, err
		}
		if len(b) != x.Size() {
			return nil, fmt.Errorf("avrojson: fixed %s holds %d bytes, not %d", x.Name(), x.Size(), len(b))
		}
		return append(out, b...), nil
	case *avro.UnionSchema:
		return w.union(out, x, v, depth)
	case *avro.ArraySchema:
		a, ok := v.([]any)
		if !ok {
			return nil, errors.New("avrojson: an array is not a JSON array")
		}
		return writeBlocks(out, len(a), func(out []byte, i int) ([]byte, error) {
			w.path = append(w.path, fieldpath.Step{Index: i})
			defer func() { w.path = w.path[:len(w.path)-1] }()
			return w.value(out, x.Items(), a[i], depth+1)
		})
	case *avro.MapSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("avrojson: a map is not a JSON object")
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return writeBlocks(out, len(keys), func(out []byte, i int) ([]byte, error) {
			out = appendBytes(out, []byte(keys[i]))
			w.path = append(w.path, fieldpath.Step{Name: keys[i]})
			defer func() { w.path = w.path[:len(w.path)-1] }()
			return w.value(out, x.Values(), m[keys[i]], depth+1)
		})
	}
	return nil, fmt.Errorf("avrojson: unsupported schema type %s", s.Type())
}

// union writes v in the first branch of u it fits, null first.
func (w *writer) union(out []byte, u *avro.UnionSchema, v any, depth int) ([]byte, error) {
	types := u.Types()
	if v == nil {
		if i := slices.IndexFunc(types, func(t avro.Schema) bool { return t.Type() == avro.Null }); i >= 0 {
			return appendLong(out, int64(i)), nil
		}
	}
	for i, t := range types {
		b, err := w.value(appendLong(nil, int64(i)), t, v, depth+1)
		if err == nil {
			return append(out, b...), nil
		}
	}
	return nil, errors.New("avrojson: the value fits no branch of its union")
}

// writeBlocks writes n items in blocks of blockLength, each block with its
// byte size (when not zero), as hamba does.
func writeBlocks(out []byte, n int, item func(out []byte, i int) ([]byte, error)) ([]byte, error) {
	for start := 0; start < n; start += blockLength {
		end := min(start+blockLength, n)
		var block []byte
		for i := start; i < end; i++ {
			var err error
			if block, err = item(block, i); err != nil {
				return nil, err
			}
		}
		if len(block) > 0 {
			out = appendLong(appendLong(out, -int64(end-start)), int64(len(block)))
		} else {
			out = appendLong(out, int64(end-start))
		}
		out = append(out, block...)
	}
	return append(out, 0), nil
}

// primitive appends a primitive value.
func primitive(out []byte, t avro.Type, v any) ([]byte, error) {
	switch t {
	case avro.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, errors.New("avrojson: a boolean is not JSON true or false")
		}
		if b {
			return append(out, 1), nil
		}
		return append(out, 0), nil
	case avro.Int, avro.Long:
		n, _ := v.(json.Number)
		bits := 64
		if t == avro.Int {
			bits = 32
		}
		i, err := strconv.ParseInt(string(n), 10, bits)
		if err != nil {
			return nil, fmt.Errorf("avrojson: not an %s", t)
		}
		return appendLong(out, i), nil
	case avro.Float, avro.Double:
		bits := 64
		if t == avro.Float {
			bits = 32
		}
		f, err := parseFloat(v, bits)
		if err != nil {
			return nil, err
		}
		if t == avro.Float {
			u := math.Float32bits(float32(f))
			return append(out, byte(u), byte(u>>8), byte(u>>16), byte(u>>24)), nil
		}
		u := math.Float64bits(f)
		for i := 0; i < 8; i++ {
			out = append(out, byte(u>>(8*i)))
		}
		return out, nil
	case avro.String:
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("avrojson: a string is not a JSON string")
		}
		return appendBytes(out, []byte(s)), nil
	case avro.Bytes:
		b, err := decodeBase64(v)
		if err != nil {
			return nil, err
		}
		return appendBytes(out, b), nil
	}
	return nil, fmt.Errorf("avrojson: unsupported primitive type %s", t)
}

// parseFloat reads a JSON number or one of the strings of NaN and the
// infinities.
func parseFloat(v any, bits int) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), bits)
		if err != nil {
			return 0, errors.New("avrojson: a number out of range")
		}
		return f, nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, errors.New("avrojson: a float is not a JSON number")
}

func decodeBase64(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, errors.New("avrojson: bytes are not a JSON string")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("avrojson: bytes are not base64")
	}
	return b, nil
}

// appendZero appends the zero of schema s.
func appendZero(out []byte, s avro.Schema, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("avrojson: nesting deeper than %d", MaxDepth)
	}
	switch x := s.(type) {
	case *avro.RefSchema:
		return appendZero(out, x.Schema(), depth)
	case *avro.NullSchema:
		return out, nil
	case *avro.PrimitiveSchema:
		switch x.Type() {
		case avro.Float:
			return append(out, 0, 0, 0, 0), nil
		case avro.Double:
			return append(out, 0, 0, 0, 0, 0, 0, 0, 0), nil
		}
		return append(out, 0), nil // false, 0, or an empty string or bytes
	case *avro.RecordSchema:
		for _, f := range x.Fields() {
			var err error
			if out, err = appendZero(out, f.Type(), depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *avro.FixedSchema:
		return append(out, make([]byte, x.Size())...), nil
	case *avro.UnionSchema:
		types := x.Types()
		if i := slices.IndexFunc(types, func(t avro.Schema) bool { return t.Type() == avro.Null }); i >= 0 {
			return appendLong(out, int64(i)), nil
		}
		return appendZero(append(out, 0), types[0], depth+1)
	case *avro.EnumSchema, *avro.ArraySchema, *avro.MapSchema:
		return append(out, 0), nil // the first symbol, or no items
	}
	return nil, fmt.Errorf("avrojson: unsupported schema type %s", s.Type())
}

// appendLong appends a zigzag varint.
func appendLong(out []byte, n int64) []byte {
	u := uint64(n<<1) ^ uint64(n>>63)
	for u >= 0x80 {
		out = append(out, byte(u)|0x80)
		u >>= 7
	}
	return append(out, byte(u))
}

func appendBytes(out, b []byte) []byte {
	return append(appendLong(out, int64(len(b))), b...)
}
