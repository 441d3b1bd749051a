package avrofield

import (
	"fmt"

	"github.com/hamba/avro/v2"
)

// Conceal returns the encoding that stands in place of an encrypted value
// of schema s whose original encoding is raw. For a string, or a union
// with a string branch, that is text as the string and inHeader is false.
// Otherwise it is the minimum value of the type raw holds (a union keeps
// the branch raw chose, so null stays null) and inHeader is true: the
// ciphertext must travel elsewhere.
func Conceal(s avro.Schema, raw []byte, text string) (repl []byte, inHeader bool, err error) {
	s = deref(s)
	if isString(s) {
		return appendString(nil, text), false, nil
	}
	u, ok := s.(*avro.UnionSchema)
	if !ok {
		return Minimum(s), true, nil
	}
	for i, branch := range u.Types() {
		if isString(branch) {
			return appendString(appendLong(nil, int64(i)), text), false, nil
		}
	}
	i, branch, _, err := readUnion(raw, u, 0)
	if err != nil {
		return nil, false, fmt.Errorf("avrofield: conceal: %w", err)
	}
	return append(appendLong(nil, int64(i)), Minimum(branch)...), true, nil
}

// Text returns the string a concealed value holds: raw must be a string
// of schema s, or a union value whose branch is a string.
func Text(s avro.Schema, raw []byte) (string, bool) {
	s = deref(s)
	pos := 0
	if u, ok := s.(*avro.UnionSchema); ok {
		_, branch, next, err := readUnion(raw, u, 0)
		if err != nil {
			return "", false
		}
		s, pos = branch, next
	}
	if !isString(s) {
		return "", false
	}
	n, pos, err := readLen(raw, pos)
	if err != nil || pos+n != len(raw) {
		return "", false
	}
	return string(raw[pos:]), true
}

// Minimum returns the encoding of the smallest value of s: the most
// negative int or long, the smallest positive float or double, false,
// empty bytes, strings, arrays and maps, a fixed of zeros, an enum's
// first symbol, a record of its fields' minimums and a union's first
// branch's minimum (the first branch that has a finite value, for
// recursive schemas). Logical types follow their underlying type.
func Minimum(s avro.Schema) []byte {
	b, _ := minimum(nil, s, nil)
	return b
}

// minimum appends the minimum of s to b; ok is false when s, through the
// records in open, has no finite value.
func minimum(b []byte, s avro.Schema, open []*avro.RecordSchema) (out []byte, ok bool) {
	if len(open) > maxDepth {
		return b, false
	}
	switch s := s.(type) {
	case *avro.RefSchema:
		return minimum(b, s.Schema(), open)
	case *avro.RecordSchema:
		for _, r := range open {
			if r == s {
				return b, false
			}
		}
		open = append(open, s)
		for _, f := range s.Fields() {
			if b, ok = minimum(b, f.Type(), open); !ok {
				return b, false
			}
		}
		return b, true
	case *avro.UnionSchema:
		for i, branch := range s.Types() {
			if m, ok := minimum(appendLong(b, int64(i)), branch, open); ok {
				return m, true
			}
		}
		return b, false
	case *avro.FixedSchema:
		return append(b, make([]byte, s.Size())...), true
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Int:
			return appendLong(b, -1<<31), true
		case avro.Long:
			return appendLong(b, -1<<63), true
		case avro.Float:
			return append(b, 1, 0, 0, 0), true
		case avro.Double:
			return append(b, 1, 0, 0, 0, 0, 0, 0, 0), true
		case avro.Null:
			return b, true
		}
		return append(b, 0), true // false, empty bytes or string
	case *avro.NullSchema:
		return b, true
	}
	return append(b, 0), true // enum's first symbol, empty array or map
}

// deref follows named-type references.
func deref(s avro.Schema) avro.Schema {
	for {
		ref, ok := s.(*avro.RefSchema)
		if !ok {
			return s
		}
		s = ref.Schema()
	}
}

// isString reports whether s is the string type (with or without a
// logical type).
func isString(s avro.Schema) bool {
	p, ok := s.(*avro.PrimitiveSchema)
	return ok && p.Type() == avro.String
}

// appendString appends text as an Avro string.
func appendString(b []byte, text string) []byte {
	return append(appendLong(b, int64(len(text))), text...)
}
