// Package kms opens the key management services an encryption
// interceptor's kmsConfig names and routes each keySecretId to one of them
// by its prefix: in-memory-kms://, vault-kms://, aws-kms://, gcp-kms://,
// azure-kms:// or gateway-kms://.
package kms

import (
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/encryption"
)

// Config is an encryption interceptor's kmsConfig.
type Config struct {
	KeyTTLMs *int64 `json:"keyTtlMs" doc:"how long a data key is used and kept unwrapped, in ms (default 3600000; 0 makes a key per item)"`
}

// DefaultTTL is how long data keys are kept when keyTtlMs is not set.
const DefaultTTL = time.Hour

// TTL returns the configured data-key lifetime.
func (c *Config) TTL() time.Duration {
	if c == nil || c.KeyTTLMs == nil {
		return DefaultTTL
	}
	return time.Duration(*c.KeyTTLMs) * time.Millisecond
}

// Prefixes of keySecretIds, one per KMS.
const (
	InMemory = "in-memory-kms://"
	Vault    = "vault-kms://"
	AWS      = "aws-kms://"
	GCP      = "gcp-kms://"
	Azure    = "azure-kms://"
	Gateway  = "gateway-kms://"
)

var prefixes = []string{InMemory, Vault, AWS, GCP, Azure, Gateway}

// Check validates a kmsConfig at apply time, without I/O.
func (c *Config) Check(at string) error {
	if c != nil && c.KeyTTLMs != nil && *c.KeyTTLMs < 0 {
		return fmt.Errorf("%s.keyTtlMs: must not be negative", at)
	}
	return nil
}

// CheckKeySecretID checks that a keySecretId (possibly a template) starts
// with a known KMS prefix followed by a key name.
func CheckKeySecretID(id string) error {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(id, p); ok {
			if rest == "" {
				return fmt.Errorf("%q names no key after %s", id, p)
			}
			return nil
		}
	}
	return fmt.Errorf("%q has no KMS prefix; expect one of %s", id, strings.Join(prefixes, ", "))
}

// Open returns the resolver of a kmsConfig's keySecretIds. It does no I/O;
// KMS clients connect on first use. log is warned when in-memory keys are
// used.
func Open(c *Config, log *zap.Logger) (encryption.Resolver, error) {
	warned := false
	return func(id string) (encryption.KMS, string, error) {
		if rest, ok := strings.CutPrefix(id, InMemory); ok {
			if !warned && log != nil {
				warned = true
				log.Warn("in-memory KMS in use: its keys live in this process only, so data encrypted with them cannot be read after a restart or on another node; use it for development only")
			}
			return memory, rest, nil
		}
		if err := CheckKeySecretID(id); err != nil {
			return nil, "", fmt.Errorf("kms: %w", err)
		}
		return nil, "", fmt.Errorf("kms: %s is not configured in kmsConfig", id[:strings.Index(id, "://")+3])
	}, nil
}
