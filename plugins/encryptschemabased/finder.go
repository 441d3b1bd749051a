package encryptschemabased

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/strait-gateway/strait/encryption/fields"
	"github.com/strait-gateway/strait/encryption/kms"
	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/encrypt"
	"github.com/strait-gateway/strait/schemaregistry"
)

// cacheSize bounds the schemas whose marked fields a finder keeps.
const cacheSize = 256

// finder gives EncryptPlugin the fields of a value its schema marks.
type finder struct {
	rules rules
	cache *cache
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
	if r, ok := f.cache.get(id); ok {
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
		r.err = fmt.Errorf("encryptschemabased: schema %d is a JSON Schema; its annotations are not read yet, so the value is refused rather than stored clear", id)
	case protoreflect.FileDescriptor:
		r.err = fmt.Errorf("encryptschemabased: schema %d is Protobuf; its annotations are not read yet, so the value is refused rather than stored clear", id)
	default:
		r.err = fmt.Errorf("encryptschemabased: schema %d has an unsupported type", id)
	}
	if r.err != nil {
		r.err = fmt.Errorf("schema %d: %w", id, r.err)
	}
	f.cache.put(id, r)
	return r.fields, r.err
}

// result is what a schema marks: its fields, or why it cannot be used.
type result struct {
	fields []encrypt.Field
	err    error
}

// cache keeps the results of up to size schema ids, dropping the oldest
// when full.
type cache struct {
	mu    sync.Mutex
	size  int
	byID  map[int]result
	order []int
}

func (c *cache) get(id int) (result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.byID[id]
	return r, ok
}

func (c *cache) put(id int, r result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[id]; ok {
		return
	}
	if c.byID == nil {
		c.byID = map[int]result{}
	}
	if len(c.order) >= c.size {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
	c.byID[id] = r
	c.order = append(c.order, id)
}

// rawTemplate returns a template's text with its placeholders.
func rawTemplate(t interceptor.Template) string {
	return t.Render(func(name string) string { return "{{" + name + "}}" })
}

// checkKeyID checks a keySecretId template: a KMS prefix, a key name and
// only the record variables EncryptPlugin fills.
func checkKeyID(t interceptor.Template) error {
	if err := kms.CheckKeySecretID(rawTemplate(t)); err != nil {
		return err
	}
	for _, v := range t.Vars() {
		if !knownVar(v) {
			return fmt.Errorf("unknown template variable {{%s}}; expect record.topic, record.key, record.value.<path> or record.header.<name>", v)
		}
	}
	return nil
}

func knownVar(v string) bool {
	switch {
	case v == "record.topic", v == "record.key":
		return true
	case strings.HasPrefix(v, "record.header.") && len(v) > len("record.header."):
		return true
	case strings.HasPrefix(v, "record.value."):
		_, err := fieldpath.Parse(strings.TrimPrefix(v, "record.value."))
		return err == nil
	}
	return false
}
