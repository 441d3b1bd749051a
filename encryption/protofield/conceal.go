package protofield

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Conceal returns the field record that stands in place of the encrypted
// field record raw of fd. A string or bytes field holds text under the
// same field number and inHeader is false. Any other field holds its
// type's minimum and inHeader is true: the ciphertext must travel
// elsewhere. The minimum is the most negative value of a signed integer,
// zero for an unsigned one, the smallest positive float or double, false,
// an enum's first value, or an empty message (or group).
func Conceal(fd protoreflect.FieldDescriptor, raw []byte, text string) (repl []byte, inHeader bool, err error) {
	if err := checkRecord(fd, raw); err != nil {
		return nil, false, fmt.Errorf("protofield: conceal %s: %w", fd.Name(), err)
	}
	b := protowire.AppendTag(nil, fd.Number(), wireType(fd))
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return protowire.AppendString(b, text), false, nil
	case protoreflect.Int32Kind:
		return protowire.AppendVarint(b, math.MaxUint64-math.MaxInt32), true, nil // -2^31 sign-extended
	case protoreflect.Int64Kind:
		return protowire.AppendVarint(b, 1<<63), true, nil
	case protoreflect.Sint32Kind:
		return protowire.AppendVarint(b, protowire.EncodeZigZag(math.MinInt32)), true, nil
	case protoreflect.Sint64Kind:
		return protowire.AppendVarint(b, protowire.EncodeZigZag(math.MinInt64)), true, nil
	case protoreflect.Sfixed32Kind:
		return protowire.AppendFixed32(b, 1<<31), true, nil
	case protoreflect.Sfixed64Kind:
		return protowire.AppendFixed64(b, 1<<63), true, nil
	case protoreflect.FloatKind:
		return protowire.AppendFixed32(b, 1), true, nil // the smallest subnormal
	case protoreflect.DoubleKind:
		return protowire.AppendFixed64(b, 1), true, nil
	case protoreflect.EnumKind:
		first := int64(0)
		if v := fd.Enum().Values(); v.Len() > 0 {
			first = int64(v.Get(0).Number())
		}
		return protowire.AppendVarint(b, uint64(first)), true, nil
	case protoreflect.MessageKind:
		return protowire.AppendVarint(b, 0), true, nil
	case protoreflect.GroupKind:
		return protowire.AppendTag(b, fd.Number(), protowire.EndGroupType), true, nil
	case protoreflect.Fixed32Kind:
		return protowire.AppendFixed32(b, 0), true, nil
	case protoreflect.Fixed64Kind:
		return protowire.AppendFixed64(b, 0), true, nil
	}
	return protowire.AppendVarint(b, 0), true, nil // bool, uint32, uint64
}

// Text returns the text a concealed string or bytes field record holds;
// ok is false for a record of any other kind of field.
func Text(fd protoreflect.FieldDescriptor, raw []byte) (string, bool) {
	if k := fd.Kind(); k != protoreflect.StringKind && k != protoreflect.BytesKind {
		return "", false
	}
	if checkRecord(fd, raw) != nil {
		return "", false
	}
	_, _, n := protowire.ConsumeTag(raw)
	v, _ := protowire.ConsumeBytes(raw[n:])
	return string(v), true
}

// Scalar returns the value of the field record raw of fd as text: a
// string or bytes as it is, a number or bool as Go prints it, an enum by
// its name (its number when the name is unknown); an error for a message.
func Scalar(fd protoreflect.FieldDescriptor, raw []byte) (string, error) {
	if s, ok := Text(fd, raw); ok {
		return s, nil
	}
	if err := checkRecord(fd, raw); err != nil {
		return "", fmt.Errorf("protofield: %s: %w", fd.Name(), err)
	}
	_, _, n := protowire.ConsumeTag(raw)
	var v uint64
	switch wireType(fd) {
	case protowire.VarintType:
		v, _ = protowire.ConsumeVarint(raw[n:])
	case protowire.Fixed32Type:
		x, _ := protowire.ConsumeFixed32(raw[n:])
		v = uint64(x)
	case protowire.Fixed64Type:
		v, _ = protowire.ConsumeFixed64(raw[n:])
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.FormatBool(v != 0), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(protoreflect.EnumNumber(int32(v))); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(int32(v))), nil
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return strconv.Itoa(int(int32(v))), nil
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(int64(v), 10), nil
	case protoreflect.Sint32Kind:
		return strconv.Itoa(int(int32(protowire.DecodeZigZag(v & math.MaxUint32)))), nil
	case protoreflect.Sint64Kind:
		return strconv.FormatInt(protowire.DecodeZigZag(v), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.FormatUint(uint64(uint32(v)), 10), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v, 10), nil
	case protoreflect.FloatKind:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(v))), 'g', -1, 32), nil
	case protoreflect.DoubleKind:
		return strconv.FormatFloat(math.Float64frombits(v), 'g', -1, 64), nil
	}
	return "", errors.New("protofield: the field holds neither text nor a number")
}
