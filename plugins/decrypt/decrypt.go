// Package decrypt is the DecryptPlugin interceptor: it decrypts, in fetch
// responses, what EncryptPlugin encrypted, for the clients its scope
// covers; clients outside it read the ciphertext the broker stores.
// Records list what of them is encrypted in a marker header (see the
// encryption package), so records written without encryption pass
// untouched, and the plugin can decrypt only some of the locations
// (selective decryption).
//
// A record that cannot be decrypted (its key shredded or out of reach, or
// its ciphertext moved from another topic or field) goes to the client
// still encrypted and is reported (return_encrypted, the default), or
// fails its partition with POLICY_VIOLATION (fail_fetch).
//
// A value stored as JSON by EncryptPlugin's convert_json mode (marked with
// the avrojson.SchemaHeader header) is turned back into Avro of its schema
// id; its value fields left encrypted are set to their type's zero.
package decrypt

import (
	_ "embed"
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
	interceptor.Register(interceptor.Define("DecryptPlugin",
		"Decrypts what EncryptPlugin encrypted, in fetch responses",
		readme, newDecrypt,
		"io.conduktor.gateway.interceptor.DecryptPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic                 interceptor.Pattern    `json:"topic" doc:"topics whose records are decrypted (default: all)"`
	KMSConfig             *kms.Config            `json:"kmsConfig" doc:"the KMS clients; they must reach the keys the records were encrypted with"`
	RecordValueFields     []string               `json:"recordValueFields" doc:"value fields to decrypt (default: the whole value and every field)"`
	RecordKeyFields       []string               `json:"recordKeyFields" doc:"key fields to decrypt (default: the whole key and every field)"`
	RecordHeaderFields    []string               `json:"recordHeaderFields" doc:"headers to decrypt (default: every header)"`
	SchemaRegistryConfig  *schemaregistry.Config `json:"schemaRegistryConfig" doc:"the schema registry of schema-framed values and of values stored as JSON (convert_json), for field-level decryption"`
	ErrorPolicy           string                 `json:"errorPolicy" doc:"return_encrypted (default) or fail_fetch, for records that cannot be decrypted"`
	EnableAuditLogOnError *bool                  `json:"enableAuditLogOnError" doc:"report records that cannot be decrypted (default true)"`
}

// plugin is a configured DecryptPlugin.
type plugin struct {
	interceptor.Base
	topic     interceptor.Pattern
	value     selection
	key       selection
	headers   []string // nil: all
	failFetch bool
	quiet     bool
	keys      *encryption.Keys
	codec     *fields.Codec
}

// selection is which fields of a value or key are decrypted; nil paths
// mean the whole and every field.
type selection struct {
	paths []fieldpath.Path
}

func newDecrypt(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	p := &plugin{topic: cfg.Topic, headers: cfg.RecordHeaderFields}
	var err error
	if p.value, err = compileSelection("recordValueFields", cfg.RecordValueFields); err != nil {
		return nil, err
	}
	if p.key, err = compileSelection("recordKeyFields", cfg.RecordKeyFields); err != nil {
		return nil, err
	}
	for i, h := range cfg.RecordHeaderFields {
		if h == "" {
			return nil, interceptor.Invalid("recordHeaderFields", "entry %d is empty", i)
		}
	}
	switch strings.ToLower(cfg.ErrorPolicy) {
	case "", "return_encrypted":
	case "fail_fetch":
		p.failFetch = true
	default:
		return nil, interceptor.Invalid("errorPolicy", "%q is not return_encrypted or fail_fetch", cfg.ErrorPolicy)
	}
	p.quiet = cfg.EnableAuditLogOnError != nil && !*cfg.EnableAuditLogOnError
	if p.codec, err = fields.NewCodec(cfg.SchemaRegistryConfig); err != nil {
		return nil, err
	}
	if p.keys, err = kms.Keys(cfg.KMSConfig, env.Log, env.KeyStore); err != nil {
		return nil, interceptor.Invalid("kmsConfig", "%v", err)
	}
	return p, nil
}

func compileSelection(at string, fields []string) (selection, error) {
	var s selection
	for i, f := range fields {
		pth, err := fieldpath.Parse(f)
		if err != nil {
			return s, interceptor.Invalid(at, "entry %d: %v", i, err)
		}
		s.paths = append(s.paths, pth)
	}
	return s, nil
}

// whole reports whether a whole encrypted value or key is decrypted.
func (s selection) whole() bool { return s.paths == nil }

// field reports whether the field at a concrete path is decrypted.
func (s selection) field(at fieldpath.Path) bool {
	if s.paths == nil {
		return true
	}
	for _, p := range s.paths {
		if matches(p, at) {
			return true
		}
	}
	return false
}

// matches reports whether a configured path (which may hold [*]) names a
// concrete path.
func matches(p, at fieldpath.Path) bool {
	if len(p) != len(at) {
		return false
	}
	for i := range p {
		if p[i] != at[i] && (p[i].Index != fieldpath.All || p[i].Name != "" || at[i].Name != "") {
			return false
		}
	}
	return true
}
