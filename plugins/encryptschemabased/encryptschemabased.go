// Package encryptschemabased is the EncryptSchemaBasedPlugin interceptor:
// it encrypts the fields of schema-framed Avro and JSON Schema record
// values that their schema marks for encryption, rather than fields
// listed in its config.
// A field is marked when its schema carries, under the configured
// namespace ("conduktor." by default), a keySecretId, an algorithm, or a
// tags entry among the interceptor's tags; what the schema leaves unset
// comes from the interceptor's defaults.
//
// The encryption itself is EncryptPlugin's (package encrypt): the same
// envelopes, marker headers and refusals, so DecryptPlugin reverses it.
// Values that are not Confluent-framed carry no schema and pass clear;
// Protobuf values are refused, their annotations not being read yet.
package encryptschemabased

import (
	_ "embed"
	"strings"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/kms"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/encrypt"
	"github.com/strait-gateway/strait/schemaregistry"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("EncryptSchemaBasedPlugin",
		"Encrypts the fields of Avro and JSON Schema record values that their schema marks, on produce",
		readme, newPlugin,
		"io.conduktor.gateway.interceptor.EncryptSchemaBasedPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic                 interceptor.Pattern    `json:"topic" doc:"topics whose records are encrypted (default: all)"`
	KMSConfig             *kms.Config            `json:"kmsConfig" doc:"the KMS clients and the data-key lifetime"`
	SchemaRegistryConfig  *schemaregistry.Config `json:"schemaRegistryConfig" doc:"the schema registry of the values (required)"`
	SchemaDataMode        string                 `json:"schemaDataMode" doc:"preserve_avro (default): an encrypted Avro value stays Avro of the same schema; convert_json: it is stored as JSON, as in EncryptPlugin"`
	DefaultKeySecretID    interceptor.Template   `json:"defaultKeySecretId" doc:"the key of marked fields whose schema names none; may hold {{record.topic}}, {{record.key}}, {{record.value.<path>}}, {{record.header.<name>}}"`
	DefaultAlgorithm      string                 `json:"defaultAlgorithm" doc:"the algorithm of marked fields whose schema names none: AES128_GCM (default), AES256_GCM, CHACHA20_POLY1305 or XCHACHA20_POLY1305"`
	Tags                  []string               `json:"tags" doc:"a field whose schema tags include one of these is encrypted"`
	Namespace             string                 `json:"namespace" doc:"prefix of the schema annotations (default conduktor.)"`
	EnableAuditLogOnError *bool                  `json:"enableAuditLogOnError" doc:"report records that cannot be encrypted (default true)"`
}

// defaultNamespace prefixes the annotation names when the config sets none.
const defaultNamespace = "conduktor."

func newPlugin(cfg *Config, env interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.SchemaRegistryConfig == nil {
		return nil, interceptor.Invalid("schemaRegistryConfig", "required: the schemas say which fields to encrypt")
	}
	alg, err := encryption.ParseAlgorithm(cfg.DefaultAlgorithm)
	if err != nil {
		return nil, interceptor.Invalid("defaultAlgorithm", "%v", err)
	}
	var defKey *interceptor.Template
	if encrypt.RawTemplate(cfg.DefaultKeySecretID) != "" {
		if err := encrypt.CheckKeySecretID(cfg.DefaultKeySecretID); err != nil {
			return nil, interceptor.Invalid("defaultKeySecretId", "%v", err)
		}
		defKey = &cfg.DefaultKeySecretID
	}
	for i, tag := range cfg.Tags {
		if strings.TrimSpace(tag) == "" {
			return nil, interceptor.Invalid("tags", "entry %d is empty", i)
		}
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	f := &finder{
		rules: rules{namespace: ns, tags: cfg.Tags, defaultKey: defKey, defaultAlg: alg},
		cache: schemaregistry.NewCache[result](cacheSize),
	}
	return encrypt.New(&encrypt.Config{
		Topic:                 cfg.Topic,
		KMSConfig:             cfg.KMSConfig,
		SchemaRegistryConfig:  cfg.SchemaRegistryConfig,
		SchemaDataMode:        cfg.SchemaDataMode,
		EnableAuditLogOnError: cfg.EnableAuditLogOnError,
	}, env, f.find)
}
