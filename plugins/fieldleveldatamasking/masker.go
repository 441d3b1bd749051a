package fieldleveldatamasking

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"
	"github.com/strait-gateway/strait/schemaregistry"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// masker masks record values: Confluent-framed Avro, Protobuf and JSON
// through the schema registry, and plain JSON.
type masker struct {
	fields []field
	// registry is nil without a registry config.
	registry *schemaregistry.Registry
}

// errNoRegistry is returned for a framed value when no registry is
// configured.
var errNoRegistry = errors.New("the value names a schema id but no schemaRegistryConfig is set")

// mask returns value with the configured fields masked, or value itself
// when nothing was masked.
func (m *masker) mask(ctx context.Context, value []byte, o *outcome) ([]byte, error) {
	if len(value) == 0 {
		return value, nil
	}
	if value[0] == 0 && len(value) >= 5 {
		return m.maskFramed(ctx, value, o)
	}
	return m.maskJSON(value, value, o)
}

// maskJSON masks the JSON document body and returns head followed by the
// masked document; value when nothing changed.
func (m *masker) maskJSON(value, body []byte, o *outcome) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: value is neither schema-framed nor JSON: %w", err)
	}
	if d.More() {
		return nil, errors.New("fieldleveldatamasking: value is neither schema-framed nor JSON: data after the document")
	}
	before := o.masked
	for i := range m.fields {
		v = maskTree(v, m.fields[i].path, &m.fields[i], o, false)
	}
	if o.masked == before {
		return value, nil
	}
	var buf bytes.Buffer
	buf.Write(value[:len(value)-len(body)])
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: encode JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// maskFramed masks a value in the Confluent wire format: magic byte 0,
// the schema id, then (Protobuf only) the message indexes.
func (m *masker) maskFramed(ctx context.Context, value []byte, o *outcome) ([]byte, error) {
	var h sr.ConfluentHeader
	id, body, err := h.DecodeID(value)
	if err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: %w", err)
	}
	s, err := m.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	switch x := s.(type) {
	case avro.Schema:
		return m.maskAvro(value, body, x, o)
	case protoreflect.FileDescriptor:
		return m.maskProtobuf(value, body, x, o)
	case schemaregistry.JSON:
		return m.maskJSON(value, body, o)
	}
	return nil, fmt.Errorf("fieldleveldatamasking: schema %d has an unsupported type", id)
}

// maskAvro decodes body with the writer schema, masks it and encodes it
// again behind the same header.
func (m *masker) maskAvro(value, body []byte, s avro.Schema, o *outcome) ([]byte, error) {
	var v any
	if err := avro.Unmarshal(s, body, &v); err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: decode Avro: %w", err)
	}
	before := o.masked
	for i := range m.fields {
		v = maskTree(v, m.fields[i].path, &m.fields[i], o, true)
	}
	if o.masked == before {
		return value, nil
	}
	enc, err := avro.Marshal(s, v)
	if err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: encode Avro: %w", err)
	}
	head := value[:len(value)-len(body)]
	return append(append(make([]byte, 0, len(head)+len(enc)), head...), enc...), nil
}

// schema returns the parsed schema of an id.
func (m *masker) schema(ctx context.Context, id int) (any, error) {
	if m.registry == nil {
		return nil, fmt.Errorf("fieldleveldatamasking: %w", errNoRegistry)
	}
	s, err := m.registry.Schema(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fieldleveldatamasking: %w", err)
	}
	return s, nil
}
