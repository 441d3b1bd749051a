package fieldleveldatamasking

import (
	"fmt"

	"github.com/strait-gateway/strait/encryption/protofield"
	"github.com/strait-gateway/strait/fieldpath"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// maskProtobuf decodes body as the message the header's indexes name,
// masks it and encodes it again behind the same header.
func (m *masker) maskProtobuf(value, body []byte, fd protoreflect.FileDescriptor, o *outcome) ([]byte, error) {
	var h sr.ConfluentHeader
	index, payload, err := h.DecodeIndex(body, 64)
	if err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: protobuf message indexes: %w", err)
	}
	md, err := protofield.MessageAt(fd, index)
	if err != nil {
		return nil, err
	}
	msg := dynamicpb.NewMessage(md)
	if err := unmarshal(payload, msg); err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: decode protobuf %s: %w", md.FullName(), err)
	}
	before := o.masked
	for i := range m.fields {
		maskMessage(msg, m.fields[i].path, &m.fields[i], o)
	}
	if o.masked == before {
		return value, nil
	}
	head := value[:len(value)-len(payload)]
	out, err := proto.MarshalOptions{}.MarshalAppend(append([]byte(nil), head...), msg)
	if err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: encode protobuf %s: %w", md.FullName(), err)
	}
	return out, nil
}

// maskMessage masks the strings at p in a message, by field names as in
// the .proto file. Repeated fields take [n] or [*]; map fields with
// string keys take the key as a name.
func maskMessage(msg protoreflect.Message, p fieldpath.Path, f *field, o *outcome) {
	if len(p) == 0 || p[0].Name == "" {
		return
	}
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(p[0].Name))
	if fd == nil || !msg.Has(fd) {
		return
	}
	rest := p[1:]
	switch {
	case fd.IsList():
		list := msg.Mutable(fd).List()
		if len(rest) == 0 || rest[0].Name != "" {
			o.skip(f, "a repeated field")
			return
		}
		for i := range list.Len() {
			if rest[0].Index < 0 || rest[0].Index == i {
				if v, ok := maskElement(list.Get(i), fd, rest[1:], f, o); ok {
					list.Set(i, v)
				}
			}
		}
	case fd.IsMap():
		if len(rest) == 0 || rest[0].Name == "" || fd.MapKey().Kind() != protoreflect.StringKind {
			o.skip(f, "a map")
			return
		}
		mp := msg.Mutable(fd).Map()
		key := protoreflect.ValueOfString(rest[0].Name).MapKey()
		if mp.Has(key) {
			if v, ok := maskElement(mp.Get(key), fd.MapValue(), rest[1:], f, o); ok {
				mp.Set(key, v)
			}
		}
	default:
		if v, ok := maskElement(msg.Get(fd), fd, rest, f, o); ok {
			msg.Set(fd, v)
		}
	}
}

// maskElement masks one value of kind fd.Kind(): a string at the end of
// the path is returned masked (true); a message is masked in place.
func maskElement(v protoreflect.Value, fd protoreflect.FieldDescriptor, rest fieldpath.Path, f *field, o *outcome) (protoreflect.Value, bool) {
	kind := fd.Kind()
	switch {
	case len(rest) == 0 && kind == protoreflect.StringKind:
		o.masked++
		return protoreflect.ValueOfString(f.rule.apply(v.String())), true
	case len(rest) == 0:
		o.skip(f, "a protobuf "+kind.String())
	case kind == protoreflect.MessageKind || kind == protoreflect.GroupKind:
		maskMessage(v.Message(), rest, f, o)
	}
	return v, false
}

// unmarshal decodes a Protobuf message from a record. protobuf-go's
// dynamic messages panic on some malformed input (a map entry whose key
// arrives with two wire types); a record must never bring the gateway
// down, so such a panic is a decode error.
func unmarshal(b []byte, m proto.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed protobuf: %v", r)
		}
	}()
	return proto.Unmarshal(b, m)
}
