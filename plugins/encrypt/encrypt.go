// Package encrypt is the EncryptPlugin interceptor: it encrypts records on
// their way to the broker, so the backing cluster stores only ciphertext.
// It encrypts whole values, keys or headers, or fields of JSON, Avro and
// Protobuf values, each under a data key of the KMS its keySecretId names (see the
// encryption package for the envelope). DecryptPlugin reverses it for the
// clients allowed to read. With schemaDataMode convert_json, an Avro value
// with fields to encrypt is stored as JSON text (see avrojson).
//
// A partition whose records cannot all be encrypted is refused, and
// nothing of it reaches the broker: a KMS or schema registry failure with
// a retriable error (NOT_ENOUGH_REPLICAS, so producers try again), a record
// the config cannot apply to (a template naming a missing field) with
// INVALID_RECORD.
// Tombstones (null values) pass untouched so compaction still works.
package encrypt

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/fields"
	"github.com/strait-gateway/strait/encryption/kms"
	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/schemaregistry"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("EncryptPlugin",
		"Encrypts record values, keys, headers or fields on produce, with keys from a KMS",
		readme, newEncrypt,
		"io.conduktor.gateway.interceptor.EncryptPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic                 interceptor.Pattern    `json:"topic" doc:"topics whose records are encrypted (default: all)"`
	KMSConfig             *kms.Config            `json:"kmsConfig" doc:"the KMS clients and the data-key lifetime"`
	RecordValue           *Target                `json:"recordValue" doc:"what of the value to encrypt"`
	RecordKey             *Target                `json:"recordKey" doc:"what of the key to encrypt (encrypted keys defeat compaction)"`
	RecordHeader          *HeaderTarget          `json:"recordHeader" doc:"which headers to encrypt"`
	SchemaRegistryConfig  *schemaregistry.Config `json:"schemaRegistryConfig" doc:"the schema registry of schema-framed (Avro, JSON Schema) values, for field-level encryption"`
	SchemaDataMode        string                 `json:"schemaDataMode" doc:"preserve_avro (default): an Avro value with encrypted fields stays Avro of its schema; convert_json: it is stored as JSON text, its encrypted fields holding the envelopes as base64"`
	EnableAuditLogOnError *bool                  `json:"enableAuditLogOnError" doc:"report records that cannot be encrypted (default true)"`
}

// Target is what of a value or a key is encrypted: the whole payload or
// some fields.
type Target struct {
	Payload *Spec       `json:"payload" doc:"encrypt the whole value or key"`
	Fields  []FieldSpec `json:"fields" doc:"encrypt these fields of a JSON or Avro value"`
}

// Spec is a key and an algorithm.
type Spec struct {
	KeySecretID interceptor.Template `json:"keySecretId" doc:"the key: a KMS prefix and key name; may hold {{record.topic}}, {{record.key}}, {{record.value.<path>}}, {{record.header.<name>}}"`
	Algorithm   string               `json:"algorithm" doc:"AES128_GCM (default), AES256_GCM, CHACHA20_POLY1305 or XCHACHA20_POLY1305"`
}

// FieldSpec encrypts one field.
type FieldSpec struct {
	FieldName   string               `json:"fieldName" doc:"the field's path: a.b, a[0].b, a[*].b"`
	KeySecretID interceptor.Template `json:"keySecretId" doc:"as in payload"`
	Algorithm   string               `json:"algorithm" doc:"as in payload"`
}

// HeaderTarget encrypts the values of the headers whose names match.
type HeaderTarget struct {
	Header  interceptor.Pattern `json:"header" doc:"header names to encrypt (default: all but Strait's own)"`
	Payload *Spec               `json:"payload" doc:"the key and algorithm"`
}

// item is how one location is encrypted.
type item struct {
	keyID interceptor.Template
	alg   encryption.Algorithm
}

// target is what of a value or key is encrypted: the whole, or fields.
type target struct {
	whole  *item
	fields []fieldItem
}

// fieldItem is one configured field.
type fieldItem struct {
	path fieldpath.Path
	item
}

// plugin is a configured EncryptPlugin.
type plugin struct {
	interceptor.Base
	topic  interceptor.Pattern
	value  *target
	key    *target
	header *headerItem
	codec  *fields.Codec
	quiet  bool // enableAuditLogOnError false
	toJSON bool // schemaDataMode convert_json
	keys   *encryption.Keys
	find   Finder
}

type headerItem struct {
	names interceptor.Pattern
	item
}

func newEncrypt(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	return New(cfg, env, nil)
}

// Field is one field to encrypt, as a Finder reports it.
type Field struct {
	Path        fieldpath.Path
	KeySecretID interceptor.Template
	Algorithm   encryption.Algorithm
}

// Finder returns the fields of a value to encrypt, for values the config
// does not name fields of: EncryptSchemaBasedPlugin reads them from the
// value's schema. A value it has nothing for yields none.
type Finder func(ctx context.Context, codec *fields.Codec, value []byte) ([]Field, error)

// New makes an encryption interceptor from a config; find, when not nil,
// chooses the value fields to encrypt record by record.
func New(cfg *Config, env interceptor.Env, find Finder) (interceptor.Interceptor, error) {
	p := &plugin{topic: cfg.Topic, find: find}
	var err error
	if p.value, err = compileTarget("recordValue", cfg.RecordValue); err != nil {
		return nil, err
	}
	if p.key, err = compileTarget("recordKey", cfg.RecordKey); err != nil {
		return nil, err
	}
	switch strings.ToLower(cfg.SchemaDataMode) {
	case "", "preserve_avro":
	case "convert_json":
		p.toJSON = true
	default:
		return nil, interceptor.Invalid("schemaDataMode", "%q is not preserve_avro or convert_json", cfg.SchemaDataMode)
	}
	if p.codec, err = fields.NewCodec(cfg.SchemaRegistryConfig); err != nil {
		return nil, err
	}
	if h := cfg.RecordHeader; h != nil {
		if h.Payload == nil {
			return nil, interceptor.Invalid("recordHeader.payload", "required: the key and algorithm of the headers")
		}
		it, err := compileSpec("recordHeader.payload", *h.Payload)
		if err != nil {
			return nil, err
		}
		p.header = &headerItem{names: h.Header, item: it}
	}
	if p.value == nil && p.key == nil && p.header == nil && find == nil {
		return nil, interceptor.Invalid("recordValue", "nothing to encrypt: set recordValue, recordKey or recordHeader")
	}
	p.quiet = cfg.EnableAuditLogOnError != nil && !*cfg.EnableAuditLogOnError
	if p.keys, err = kms.Keys(cfg.KMSConfig, env.Log, env.KeyStore); err != nil {
		return nil, interceptor.Invalid("kmsConfig", "%v", err)
	}
	return p, nil
}

// compileTarget compiles a value or key target.
func compileTarget(at string, t *Target) (*target, error) {
	if t == nil {
		return nil, nil
	}
	switch {
	case t.Payload != nil && len(t.Fields) > 0:
		return nil, interceptor.Invalid(at, "set payload or fields, not both")
	case t.Payload != nil:
		it, err := compileSpec(at+".payload", *t.Payload)
		return &target{whole: &it}, err
	case len(t.Fields) == 0:
		return nil, interceptor.Invalid(at, "set payload or fields")
	}
	out := &target{}
	for i, f := range t.Fields {
		fat := fmt.Sprintf("%s.fields[%d]", at, i)
		pth, err := fieldpath.Parse(f.FieldName)
		if err != nil {
			return nil, interceptor.Invalid(fat+".fieldName", "%v", err)
		}
		it, err := compileSpec(fat, Spec{KeySecretID: f.KeySecretID, Algorithm: f.Algorithm})
		if err != nil {
			return nil, err
		}
		out.fields = append(out.fields, fieldItem{path: pth, item: it})
	}
	return out, nil
}

// compileSpec checks a key id template and an algorithm.
func compileSpec(at string, s Spec) (item, error) {
	alg, err := encryption.ParseAlgorithm(s.Algorithm)
	if err != nil {
		return item{}, interceptor.Invalid(at+".algorithm", "%v", err)
	}
	if RawTemplate(s.KeySecretID) == "" {
		return item{}, interceptor.Invalid(at+".keySecretId", "required")
	}
	if err := CheckKeySecretID(s.KeySecretID); err != nil {
		return item{}, interceptor.Invalid(at+".keySecretId", "%v", err)
	}
	return item{keyID: s.KeySecretID, alg: alg}, nil
}

// RawTemplate returns a template's text with its placeholders.
func RawTemplate(t interceptor.Template) string {
	return t.Render(func(name string) string { return "{{" + name + "}}" })
}

// CheckKeySecretID checks a keySecretId template: a KMS prefix, a key
// name, and only the record variables the plugin fills in.
func CheckKeySecretID(t interceptor.Template) error {
	if err := kms.CheckKeySecretID(RawTemplate(t)); err != nil {
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
		_, err := parseValuePath(v)
		return err == nil
	}
	return false
}
