package protofield

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// records walks the field records of b and calls visit for each; visit
// returns a replacement record and true, or false to keep the record.
// records returns the rewritten data and true when any record was
// replaced, and an error for data that is not a sequence of records.
func records(b []byte, visit func(rec []byte, num protowire.Number, typ protowire.Type) ([]byte, bool, error)) ([]byte, bool, error) {
	var out []byte
	copied, changed := 0, false
	for pos := 0; pos < len(b); {
		num, typ, n := protowire.ConsumeField(b[pos:])
		if n < 0 {
			return nil, false, fmt.Errorf("protofield: field record at offset %d: %w", pos, protowire.ParseError(n))
		}
		repl, ok, err := visit(b[pos:pos+n:pos+n], num, typ)
		if err != nil {
			return nil, false, err
		}
		if ok {
			if !changed {
				out = make([]byte, 0, len(b)+len(repl))
			}
			out = append(append(out, b[copied:pos]...), repl...)
			copied, changed = pos+n, true
		}
		pos += n
	}
	if !changed {
		return nil, false, nil
	}
	return append(out, b[copied:]...), true, nil
}

// keep is a records visitor that replaces nothing.
func keep([]byte, protowire.Number, protowire.Type) ([]byte, bool, error) { return nil, false, nil }

// checkRecord reports whether rec is exactly one field record of fd with
// the wire type of one (unpacked) value; a message's content must be a
// sequence of records.
func checkRecord(fd protoreflect.FieldDescriptor, rec []byte) error {
	num, typ, n := protowire.ConsumeField(rec)
	switch {
	case n < 0:
		return protowire.ParseError(n)
	case n != len(rec):
		return fmt.Errorf("%d bytes after the field record", len(rec)-n)
	case num != fd.Number() || typ != wireType(fd):
		return fmt.Errorf("the record is not one value of field %d (%s)", fd.Number(), fd.Kind())
	case fd.Kind() == protoreflect.MessageKind:
		_, _, tagLen := protowire.ConsumeTag(rec)
		content, _ := protowire.ConsumeBytes(rec[tagLen:])
		_, _, err := records(content, keep)
		return err
	}
	return nil
}

// wireType returns the wire type of one value of fd (unpacked).
func wireType(fd protoreflect.FieldDescriptor) protowire.Type {
	switch fd.Kind() {
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.VarintType // bool, enum and the varint integers
}

// packable reports whether values of fd may be packed: numbers, bools
// and enums.
func packable(fd protoreflect.FieldDescriptor) bool {
	t := wireType(fd)
	return t != protowire.BytesType && t != protowire.StartGroupType
}

// countPacked returns the number of elements in the packed record rec of
// the repeated field fd.
func countPacked(fd protoreflect.FieldDescriptor, rec []byte) (int, error) {
	_, _, tagLen := protowire.ConsumeTag(rec)
	data, _ := protowire.ConsumeBytes(rec[tagLen:])
	size := 0
	switch wireType(fd) {
	case protowire.Fixed32Type:
		size = 4
	case protowire.Fixed64Type:
		size = 8
	default:
		n := 0
		for len(data) > 0 {
			_, m := protowire.ConsumeVarint(data)
			if m < 0 {
				return 0, fmt.Errorf("protofield: packed %s: %w", fd.Name(), protowire.ParseError(m))
			}
			data, n = data[m:], n+1
		}
		return n, nil
	}
	if len(data)%size != 0 {
		return 0, fmt.Errorf("protofield: packed %s: %d bytes is not a whole number of elements", fd.Name(), len(data))
	}
	return len(data) / size, nil
}

// mapKey returns the string key of a map entry (the last key record
// wins; no key is the empty string).
func mapKey(entry []byte) (string, error) {
	var key []byte
	_, _, err := records(entry, func(rec []byte, num protowire.Number, typ protowire.Type) ([]byte, bool, error) {
		if num == 1 && typ == protowire.BytesType {
			_, _, n := protowire.ConsumeTag(rec)
			key, _ = protowire.ConsumeBytes(rec[n:])
		}
		return nil, false, nil
	})
	return string(key), err
}

// MessageAt returns the message a Confluent message-index path names: a
// top-level message of fd by index, then messages nested in it by index.
// An empty path names the first message.
func MessageAt(fd protoreflect.FileDescriptor, indexes []int) (protoreflect.MessageDescriptor, error) {
	if fd.Messages().Len() == 0 {
		return nil, errors.New("protofield: the schema has no message")
	}
	md := fd.Messages().Get(0)
	msgs := fd.Messages()
	for _, i := range indexes {
		if i < 0 || i >= msgs.Len() {
			return nil, fmt.Errorf("protofield: message index %v is not in the schema", indexes)
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	return md, nil
}
