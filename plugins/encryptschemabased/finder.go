package encryptschemabased

import (
	"context"
	"fmt"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/strait-gateway/strait/encryption/fields"
	"github.com/strait-gateway/strait/plugins/encrypt"
	"github.com/strait-gateway/strait/schemaregistry"
)

// cacheSize bounds the schemas whose marked fields a finder keeps.
const cacheSize = 256

// finder gives EncryptPlugin the fields of a value its schema marks.
type finder struct {
	rules rules
	cache *schemaregistry.Cache[result]
}

// find returns the marked fields of a framed value's schema; a value
// without the Confluent frame has none.
func (f *finder) find(ctx context.Context, codec *fields.Codec, value []byte) ([]encrypt.Field, error) {
	if len(value) < 5 || value[0] != 0 {
		return nil, nil
	}
	var h sr.ConfluentHeader
	id, _, err := h.DecodeID(value)
	if err != nil {
		return nil, fmt.Errorf("encryptschemabased: %w", err)
	}
	if r, ok := f.cache.Get(id); ok {
		return r.fields, r.err
	}
	if codec.Registry == nil {
		return nil, fields.ErrNoRegistry
	}
	s, err := codec.Registry.Schema(ctx, id)
	if err != nil {
		return nil, err // not cached: the registry may come back
	}
	var r result
	switch x := s.(type) {
	case avro.Schema:
		r.fields, r.err = f.rules.avroFields(x)
	case schemaregistry.JSON:
		r.fields, r.err = f.rules.jsonFields(x.Schema)
	case protoreflect.FileDescriptor:
		r.err = fmt.Errorf("encryptschemabased: schema %d is Protobuf; its annotations are not read yet, so the value is refused rather than stored clear", id)
	default:
		r.err = fmt.Errorf("encryptschemabased: schema %d has an unsupported type", id)
	}
	if r.err != nil {
		r.err = fmt.Errorf("schema %d: %w", id, r.err)
	}
	f.cache.Put(id, r)
	return r.fields, r.err
}

// result is what a schema marks: its fields, or why it cannot be used.
type result struct {
	fields []encrypt.Field
	err    error
}
