// Package kms opens the key management services an encryption
// interceptor's kmsConfig names and routes each keySecretId to one of them
// by its prefix: in-memory-kms://, vault-kms://, aws-kms://, gcp-kms://,
// azure-kms:// or gateway-kms://.
package kms

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/kms/awskms"
	"github.com/strait-gateway/strait/encryption/kms/azurekms"
	"github.com/strait-gateway/strait/encryption/kms/gcpkms"
	"github.com/strait-gateway/strait/encryption/kms/vaultkms"
)

// Config is an encryption interceptor's kmsConfig.
type Config struct {
	KeyTTLMs *int64           `json:"keyTtlMs" doc:"how long a data key is used and kept unwrapped, in ms (default 3600000; 0 makes a key per item)"`
	Vault    *vaultkms.Config `json:"vault" doc:"HashiCorp Vault Transit, for vault-kms:// keys (fields may also come from VAULT_* environment variables)"`
	AWS      *awskms.Config   `json:"aws" doc:"AWS KMS, for aws-kms:// keys (default: the AWS credential chain)"`
	Azure    *azurekms.Config `json:"azure" doc:"Azure Key Vault, for azure-kms:// keys (default: the default Azure credential)"`
	GCP      *gcpkms.Config   `json:"gcp" doc:"Google Cloud KMS, for gcp-kms:// keys (default: Application Default Credentials)"`
	Gateway  *GatewayConfig   `json:"gateway" doc:"data keys kept by the gateway cluster in its keys topic, for gateway-kms:// keys"`
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

// Check validates a kmsConfig at apply time, without I/O; at names it in
// errors.
func (c *Config) Check(at string) error {
	if c == nil {
		return nil
	}
	if c.KeyTTLMs != nil && *c.KeyTTLMs < 0 {
		return fmt.Errorf("%s.keyTtlMs: must not be negative", at)
	}
	for _, b := range []struct {
		name  string
		check func() error
	}{{"vault", c.Vault.Check}, {"aws", c.AWS.Check}, {"azure", c.Azure.Check}, {"gcp", c.GCP.Check}, {"gateway", c.Gateway.Check}} {
		if b.name == "vault" && c.Vault == nil {
			continue // without a block, VAULT_* variables configure it when used
		}
		if err := b.check(); err != nil {
			return fmt.Errorf("%s.%s.%w", at, b.name, err)
		}
	}
	return nil
}

// CheckKeySecretID checks that a keySecretId starts with a known KMS
// prefix followed by a key name; the name is checked too unless it holds
// template placeholders, which are checked once filled in.
func CheckKeySecretID(id string) error {
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(id, p)
		if !ok {
			continue
		}
		if rest == "" {
			return fmt.Errorf("%q names no key after %s", id, p)
		}
		if strings.Contains(rest, "{{") {
			return nil
		}
		return checkKeyID(p, rest)
	}
	return fmt.Errorf("%q has no KMS prefix; expect one of %s", id, strings.Join(prefixes, ", "))
}

// checkKeyID checks a key id of one KMS.
func checkKeyID(prefix, id string) error {
	switch prefix {
	case Vault:
		return vaultkms.CheckKeyID(id)
	case AWS:
		return awskms.CheckKeyID(id)
	case Azure:
		return azurekms.CheckKeyID(id)
	case GCP:
		return gcpkms.CheckKeyID(id)
	}
	return nil
}

// Keys checks a kmsConfig and returns the data-key cache of an
// encryption interceptor over the KMSs it configures. It does no I/O.
func Keys(c *Config, log *zap.Logger, store encryption.KeyStore) (*encryption.Keys, error) {
	if err := c.Check("kmsConfig"); err != nil {
		return nil, err
	}
	resolve, err := Open(c, log, store)
	if err != nil {
		return nil, err
	}
	return encryption.NewKeys(resolve, c.TTL()), nil
}

// Open returns the resolver of a kmsConfig's keySecretIds. It does no I/O;
// KMS clients connect on first use. log is warned when in-memory keys are
// used. store keeps gateway-kms:// data keys; nil (at validation time, or
// on a node without a key store) makes those keys fail when used.
func Open(c *Config, log *zap.Logger, store encryption.KeyStore) (encryption.Resolver, error) {
	if c == nil {
		c = &Config{}
	}
	backends := map[string]encryption.KMS{InMemory: memory}
	// Vault also reads VAULT_* variables, so it is made without a block.
	vault, err := vaultkms.New(orZero(c.Vault))
	if err == nil {
		backends[Vault] = vault
	}
	vaultErr := err
	if backends[AWS], err = awskms.New(c.AWS); err != nil {
		return nil, fmt.Errorf("kms: aws: %w", err)
	}
	if c.Azure != nil {
		if backends[Azure], err = azurekms.New(c.Azure); err != nil {
			return nil, fmt.Errorf("kms: azure: %w", err)
		}
	}
	if backends[GCP], err = gcpkms.New(c.GCP); err != nil {
		return nil, fmt.Errorf("kms: gcp: %w", err)
	}
	var warn sync.Once
	var resolve encryption.Resolver
	var gateway *gatewayKMS
	if c.Gateway != nil && store != nil {
		maxKeys := DefaultMaxKeys
		if c.Gateway.MaxKeys != nil {
			maxKeys = *c.Gateway.MaxKeys
		}
		master := func() (encryption.KMS, string, error) { return resolve(c.Gateway.MasterKeyID) }
		gateway = newGatewayKMS(store, master, maxKeys)
	}
	resolve = func(id string) (encryption.KMS, string, error) {
		prefix, rest, ok := split(id)
		if !ok {
			return nil, "", fmt.Errorf("kms: %q has no KMS prefix", id)
		}
		if err := checkKeyID(prefix, rest); err != nil || rest == "" {
			return nil, "", fmt.Errorf("kms: key %q: %w", id, orEmpty(err))
		}
		if prefix == InMemory && log != nil {
			warn.Do(func() {
				log.Warn("in-memory KMS in use: its keys live in this process only, so data encrypted with them cannot be read after a restart or on another node; use it for development only")
			})
		}
		if prefix == Gateway {
			return gatewayBackend(c, gateway, rest)
		}
		if prefix == Vault && vaultErr != nil {
			return nil, "", fmt.Errorf("kms: vault-kms:// keys need kmsConfig.vault: %w", vaultErr)
		}
		k, ok := backends[prefix]
		if !ok || k == nil {
			return nil, "", fmt.Errorf("kms: %s keys are not configured in kmsConfig", prefix)
		}
		return k, rest, nil
	}
	return resolve, nil
}

// gatewayBackend routes a gateway-kms:// key.
func gatewayBackend(c *Config, g *gatewayKMS, keyID string) (encryption.KMS, string, error) {
	switch {
	case c.Gateway == nil || c.Gateway.MasterKeyID == "":
		return nil, "", fmt.Errorf("kms: gateway-kms:// keys are not configured: they need kmsConfig.gateway.masterKeyId")
	case strings.HasPrefix(c.Gateway.MasterKeyID, Gateway):
		return nil, "", fmt.Errorf("kms: kmsConfig.gateway.masterKeyId must not be a gateway-kms:// key")
	case g == nil:
		return nil, "", fmt.Errorf("kms: gateway-kms:// keys are not available on this node: it has no key store (the keys topic could not be opened)")
	}
	return g, keyID, nil
}

func split(id string) (prefix, rest string, ok bool) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(id, p); ok {
			return p, rest, true
		}
	}
	return "", "", false
}

func orZero[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}

func orEmpty(err error) error {
	if err == nil {
		return fmt.Errorf("no key name")
	}
	return err
}
