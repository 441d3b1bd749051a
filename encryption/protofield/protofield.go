// Package protofield replaces single fields inside Protobuf binary data
// without decoding the rest: it walks the wire format with the message's
// descriptor, finds the field records a field path names, and splices
// replacements in, so that every other byte stays as written. Field-level
// encryption uses it to keep an encrypted record a valid message of the
// same type and to restore the original bytes exactly.
package protofield

import (
	"errors"
	"fmt"

	"github.com/strait-gateway/strait/fieldpath"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Replace walks body, the Protobuf binary of a message of descriptor md
// (without Confluent framing or message indexes), and calls fn for every
// field record at path p with the record's concrete path (such as
// "items[2].card"), its field descriptor and its exact bytes: tag and
// value of that one occurrence. fn returns the field record to put in its
// place, which must be a record of the same field.
//
// Name steps select fields by their .proto names; a repeated field takes
// an index step ([n] or [*]) and a map with string keys takes the key as
// the next name, leading to the entry's value field. Elements of a packed
// repeated field are refused: they share one record and cannot be
// replaced one by one. Sub-messages on the way are walked and their length
// prefix is rewritten when their content changes; unknown fields and
// fields off the path are copied untouched (and not decoded further).
//
// Replace returns body itself when fn was never called and never
// modifies body.
func Replace(body []byte, md protoreflect.MessageDescriptor, p fieldpath.Path, fn func(at string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error)) ([]byte, error) {
	if len(p) == 0 {
		return nil, errors.New("protofield: empty field path")
	}
	var at [8]fieldpath.Step // room for the concrete path of most paths
	w := walker{fn: fn}
	out, changed, err := w.message(body, md, p, at[:0])
	if err != nil {
		return nil, err
	}
	if !changed {
		return body, nil
	}
	return out, nil
}

// walker holds the callback of one Replace.
type walker struct {
	fn func(at string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error)
}

// message walks the records of a message of md, following p into the
// field its first step names; at is the concrete path to the message.
func (w *walker) message(b []byte, md protoreflect.MessageDescriptor, p, at fieldpath.Path) ([]byte, bool, error) {
	var fd protoreflect.FieldDescriptor
	if p[0].Name != "" {
		fd = md.Fields().ByName(protoreflect.Name(p[0].Name))
	}
	if err := checkStep(fd, p); err != nil {
		return nil, false, err
	}
	index := 0 // elements of the repeated field fd seen so far
	return records(b, func(rec []byte, num protowire.Number, typ protowire.Type) ([]byte, bool, error) {
		if fd == nil || num != fd.Number() {
			return nil, false, nil
		}
		at := append(at, p[0])
		switch {
		case fd.IsMap():
			return w.entry(fd, rec, typ, p[1:], at)
		case fd.IsList():
			return w.element(fd, rec, typ, &index, p[1:], at)
		case typ == wireType(fd):
			return w.value(fd, rec, p[1:], at)
		}
		return nil, false, nil // a wire type fd cannot have: an unknown field
	})
}

// checkStep refuses paths that end on a whole repeated field or map, and
// keys of maps whose keys are not strings.
func checkStep(fd protoreflect.FieldDescriptor, p fieldpath.Path) error {
	switch {
	case fd == nil:
		return nil
	case fd.IsMap() && len(p) > 1 && p[1].Name != "" && fd.MapKey().Kind() != protoreflect.StringKind:
		return fmt.Errorf("protofield: %s: only maps with string keys can be followed by key", fd.Name())
	case (fd.IsList() || fd.IsMap()) && len(p) == 1:
		return fmt.Errorf("protofield: %s is repeated: name its elements with [n] or [*], or a map entry by its key", fd.Name())
	}
	return nil
}

// element walks one record of the repeated field fd; index counts the
// elements before it and is moved past the record's elements.
func (w *walker) element(fd protoreflect.FieldDescriptor, rec []byte, typ protowire.Type, index *int, rest, at fieldpath.Path) ([]byte, bool, error) {
	if typ == protowire.BytesType && packable(fd) {
		n, err := countPacked(fd, rec)
		if err != nil {
			return nil, false, err
		}
		first := *index
		*index += n
		if rest[0].Name == "" && n > 0 && (rest[0].Index == fieldpath.All || rest[0].Index >= first && rest[0].Index < *index) {
			return nil, false, fmt.Errorf("protofield: %s holds packed elements, which share one record and cannot be encrypted one by one", fieldpath.Path(at))
		}
		return nil, false, nil
	}
	if typ != wireType(fd) {
		return nil, false, nil
	}
	i := *index
	*index++
	if rest[0].Name != "" || rest[0].Index != fieldpath.All && rest[0].Index != i {
		return nil, false, nil
	}
	return w.value(fd, rec, rest[1:], append(at, fieldpath.Step{Index: i}))
}

// entry walks one entry record of the map fd: when its key is rest's
// first name, the entry's value field, following the rest of the path.
func (w *walker) entry(fd protoreflect.FieldDescriptor, rec []byte, typ protowire.Type, rest, at fieldpath.Path) ([]byte, bool, error) {
	if typ != protowire.BytesType || rest[0].Name == "" {
		return nil, false, nil
	}
	_, _, tagLen := protowire.ConsumeTag(rec)
	content, _ := protowire.ConsumeBytes(rec[tagLen:])
	key, err := mapKey(content)
	if err != nil || key != rest[0].Name {
		return nil, false, err
	}
	vd := fd.MapValue()
	at = append(at, rest[0])
	out, changed, err := records(content, func(r []byte, num protowire.Number, typ protowire.Type) ([]byte, bool, error) {
		if num != vd.Number() || typ != wireType(vd) {
			return nil, false, nil
		}
		return w.value(vd, r, rest[1:], at)
	})
	if !changed || err != nil {
		return nil, false, err
	}
	return protowire.AppendBytes(append([]byte(nil), rec[:tagLen]...), out), true, nil
}

// value walks the record of one value of fd: fn replaces it at the end
// of the path; a message or group is followed into.
func (w *walker) value(fd protoreflect.FieldDescriptor, rec []byte, rest, at fieldpath.Path) ([]byte, bool, error) {
	if len(rest) == 0 {
		return w.replace(fd, rec, at)
	}
	_, _, tagLen := protowire.ConsumeTag(rec)
	switch fd.Kind() {
	case protoreflect.MessageKind:
		content, _ := protowire.ConsumeBytes(rec[tagLen:])
		out, changed, err := w.message(content, fd.Message(), rest, at)
		if !changed || err != nil {
			return nil, false, err
		}
		return protowire.AppendBytes(append([]byte(nil), rec[:tagLen]...), out), true, nil
	case protoreflect.GroupKind:
		content, _ := protowire.ConsumeGroup(fd.Number(), rec[tagLen:])
		out, changed, err := w.message(content, fd.Message(), rest, at)
		if !changed || err != nil {
			return nil, false, err
		}
		end := rec[tagLen+len(content):] // the end-group tag as written
		b := append(append([]byte(nil), rec[:tagLen]...), out...)
		return append(b, end...), true, nil
	}
	return nil, false, nil // a scalar has no fields to follow
}

// replace calls fn for the record rec of fd and checks its replacement.
func (w *walker) replace(fd protoreflect.FieldDescriptor, rec []byte, path fieldpath.Path) ([]byte, bool, error) {
	at := path.String()
	repl, err := w.fn(at, fd, rec)
	if err != nil {
		return nil, false, fmt.Errorf("protofield: %s: %w", at, err)
	}
	if err := checkRecord(fd, repl); err != nil {
		return nil, false, fmt.Errorf("protofield: %s: replacement: %w", at, err)
	}
	return repl, true, nil
}
