// Package fields finds the fields of a structured record value (or key)
// for field-level encryption, and replaces them leaving every other byte
// as it was. A value is JSON text, or a Confluent-framed value (magic byte
// 0 and a schema id) whose schema the registry gives: Avro — kept valid
// Avro of the same schema —, JSON Schema, or Protobuf — kept a valid
// message of the type the message indexes name.
package fields

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/strait-gateway/strait/encryption/avrofield"
	"github.com/strait-gateway/strait/encryption/jsonfield"
	"github.com/strait-gateway/strait/encryption/protofield"
	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/schemaregistry"
)

// Field is one value found at a path.
type Field struct {
	// Raw is the value's exact encoding: JSON text, Avro binary (for a
	// union, its branch index and value), or a Protobuf field record (tag
	// and value).
	Raw    []byte
	schema avro.Schema                  // nil for JSON and Protobuf
	proto  protoreflect.FieldDescriptor // set for Protobuf
}

// Conceal returns what stands in place of the field once encrypted: text,
// as a string; or, for an Avro field that cannot hold a string, its
// type's minimum value, and inHeader true — the text must travel
// elsewhere.
func (f Field) Conceal(text string) (repl []byte, inHeader bool, err error) {
	if f.proto != nil {
		return protofield.Conceal(f.proto, f.Raw, text)
	}
	if f.schema == nil {
		return jsonfield.String(text), false, nil
	}
	return avrofield.Conceal(f.schema, f.Raw, text)
}

// Text returns the string a field holds, ok false when it holds none.
func (f Field) Text() (string, bool) {
	if f.proto != nil {
		return protofield.Text(f.proto, f.Raw)
	}
	if f.schema == nil {
		return jsonfield.Unquote(f.Raw)
	}
	return avrofield.Text(f.schema, f.Raw)
}

// Scalar returns a field's value as text for templates: a string as it
// is, a number or boolean as written; an error for anything else.
func (f Field) Scalar() (string, error) {
	if f.proto != nil {
		return protofield.Scalar(f.proto, f.Raw)
	}
	if s, ok := f.Text(); ok {
		return s, nil
	}
	var v any
	if f.schema == nil {
		if err := json.Unmarshal(f.Raw, &v); err != nil {
			return "", err
		}
	} else if err := avro.Unmarshal(f.schema, f.Raw, &v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case float64, float32, int, int32, int64, bool:
		return fmt.Sprint(x), nil
	case map[string]any: // an Avro union's branch
		for _, inner := range x {
			return Field{Raw: mustJSON(inner)}.Scalar()
		}
	}
	return "", errors.New("the field holds neither text nor a number")
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// Codec reads values with an optional registry for framed ones.
type Codec struct {
	Registry *schemaregistry.Registry
}

// NewCodec returns the codec of an interceptor's schemaRegistryConfig,
// which may be nil (no registry: framed values are refused). Errors are
// *interceptor.ConfigError naming the field.
func NewCodec(rc *schemaregistry.Config) (*Codec, error) {
	if rc == nil {
		return &Codec{}, nil
	}
	r, err := schemaregistry.Open("schemaRegistryConfig", rc)
	if err != nil {
		return nil, err
	}
	return &Codec{Registry: r}, nil
}

// ErrNoRegistry is returned for a framed value without a registry.
var ErrNoRegistry = errors.New("fields: the value names a schema id but no schemaRegistryConfig is set")

// Replace calls fn for every field at path p of data and puts what fn
// returns in its place; data itself comes back when fn is never called.
// at is the field's concrete path (indexes filled in).
func (c *Codec) Replace(ctx context.Context, data []byte, p fieldpath.Path, fn func(at string, f Field) ([]byte, error)) ([]byte, error) {
	return c.ReplaceAll(ctx, data, []fieldpath.Path{p}, func(_ int, at string, f Field) ([]byte, error) { return fn(at, f) })
}

// ReplaceAll is Replace for several paths, in order, each on the result
// of the one before; fn learns which path (its index) found the field. A
// framed value's header and schema are read once.
func (c *Codec) ReplaceAll(ctx context.Context, data []byte, paths []fieldpath.Path, fn func(i int, at string, f Field) ([]byte, error)) ([]byte, error) {
	if len(data) < 5 || data[0] != 0 {
		return each(data, paths, func(body []byte, i int, p fieldpath.Path) ([]byte, error) {
			return jsonfield.Replace(body, p, func(at string, raw []byte) ([]byte, error) { return fn(i, at, Field{Raw: raw}) })
		})
	}
	if c.Registry == nil {
		return nil, ErrNoRegistry
	}
	var h sr.ConfluentHeader
	id, body, err := h.DecodeID(data)
	if err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	s, err := c.Registry.Schema(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch x := s.(type) {
	case avro.Schema:
		out, err = each(body, paths, func(body []byte, i int, p fieldpath.Path) ([]byte, error) {
			return avrofield.Replace(body, x, p, func(at string, s avro.Schema, raw []byte) ([]byte, error) {
				return fn(i, at, Field{Raw: raw, schema: s})
			})
		})
	case schemaregistry.JSON:
		out, err = each(body, paths, func(body []byte, i int, p fieldpath.Path) ([]byte, error) {
			return jsonfield.Replace(body, p, func(at string, raw []byte) ([]byte, error) { return fn(i, at, Field{Raw: raw}) })
		})
	case protoreflect.FileDescriptor:
		var index []int
		if index, body, err = h.DecodeIndex(body, 64); err != nil {
			return nil, fmt.Errorf("fields: protobuf message indexes: %w", err)
		}
		var md protoreflect.MessageDescriptor
		if md, err = protofield.MessageAt(x, index); err != nil {
			return nil, err
		}
		out, err = each(body, paths, func(body []byte, i int, p fieldpath.Path) ([]byte, error) {
			return protofield.Replace(body, md, p, func(at string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
				return fn(i, at, Field{Raw: raw, proto: fd})
			})
		})
	default:
		return nil, fmt.Errorf("fields: schema %d has an unsupported type", id)
	}
	if err != nil {
		return nil, err
	}
	if len(out) == len(body) && (len(out) == 0 || &out[0] == &body[0]) {
		return data, nil // unchanged
	}
	head := data[:len(data)-len(body)] // magic byte, schema id and any message indexes
	return append(append(make([]byte, 0, len(head)+len(out)), head...), out...), nil
}

// each runs replace for every path on the result of the one before.
func each(body []byte, paths []fieldpath.Path, replace func(body []byte, i int, p fieldpath.Path) ([]byte, error)) ([]byte, error) {
	for i, p := range paths {
		var err error
		if body, err = replace(body, i, p); err != nil {
			return nil, err
		}
	}
	return body, nil
}
