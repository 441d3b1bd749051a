package kms

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strait-gateway/strait/encryption"
)

func TestCheckKeySecretID(t *testing.T) {
	tests := []struct {
		id   string
		want string // substring of the error; "" for none
	}{
		{"in-memory-kms://orders", ""},
		{"vault-kms://vault:8200/transit/keys/orders", ""},
		{"vault-kms://transit/keys/orders", "expect <host:port>"},
		{"aws-kms://orders", "is not a KMS key ARN"},
		{"aws-kms://arn:aws:kms:eu-west-1:123456789012:key/1234", ""},
		{"gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k", ""},
		{"azure-kms://myvault.vault.azure.net/keys/k/1", ""},
		{"gateway-kms://{{record.topic}}-key", ""},
		{"in-memory-kms://", "names no key after in-memory-kms://"},
		{"vault-kms://", "names no key after vault-kms://"},
		{"aws-kms://", "names no key"},
		{"gcp-kms://", "names no key"},
		{"azure-kms://", "names no key"},
		{"gateway-kms://", "names no key"},
		{"", "has no KMS prefix"},
		{"orders", "has no KMS prefix"},
		{"kms://orders", "has no KMS prefix"},
		{"IN-MEMORY-KMS://orders", "has no KMS prefix"},
		{"in-memory-kms:/orders", "has no KMS prefix"},
		{" vault-kms://k", "has no KMS prefix"},
	}
	for _, tt := range tests {
		err := CheckKeySecretID(tt.id)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckKeySecretID(%q) = %v, want nil", tt.id, err)
		case tt.want != "" && err == nil:
			t.Errorf("CheckKeySecretID(%q) = nil, want an error", tt.id)
		case tt.want != "" && !strings.Contains(err.Error(), tt.want):
			t.Errorf("CheckKeySecretID(%q) = %v, want it to contain %q", tt.id, err, tt.want)
		}
	}
}

func TestOpenRoutes(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	resolve, err := Open(nil, zap.New(core), nil)
	if err != nil {
		t.Fatal(err)
	}
	k, keyID, err := resolve("in-memory-kms://routes-test")
	if err != nil || k == nil || keyID != "routes-test" {
		t.Fatalf("in-memory: %v, %q, %v", k, keyID, err)
	}
	if _, _, err := resolve("in-memory-kms://routes-test-2"); err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterMessageSnippet("in-memory KMS").Len(); n != 1 {
		t.Errorf("%d in-memory warnings for two lookups, want 1", n)
	}
	for id, want := range map[string]string{
		"vault-kms://vault:8200/transit/keys/k":         "need kmsConfig.vault",
		"azure-kms://myvault.vault.azure.net/keys/k":    "azure-kms:// keys are not configured",
		"gateway-kms://k":                               "gateway-kms:// keys are not configured",
		"aws-kms://k":                                   "is not a KMS key ARN",
		"gcp-kms://projects/p/locations/l/keyRings/r/k": "gcpkms: key id",
	} {
		_, _, err := resolve(id)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "kms: ") {
			t.Errorf("%s: error %v, want %q", id, err, want)
		}
	}
	// AWS and GCP fall back to their default credentials: resolving needs
	// no config and no I/O.
	for _, id := range []string{"aws-kms://arn:aws:kms:eu-west-1:123456789012:key/1234", "gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k"} {
		if k, _, err := resolve(id); err != nil || k == nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	for _, id := range []string{"orders", "", "vault-kms://"} {
		if _, _, err := resolve(id); err == nil || !strings.HasPrefix(err.Error(), "kms: ") {
			t.Errorf("%q: error %v, want a kms: error", id, err)
		}
	}
}

// TestOpenSealsAndOpens runs encryption.Keys on the resolver, as the
// encryption interceptors do.
func TestOpenSealsAndOpens(t *testing.T) {
	resolve, err := Open(&Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	aad := encryption.Context("orders", "value")
	for _, ttl := range []time.Duration{0, time.Hour} {
		sealer := encryption.NewKeys(resolve, ttl)
		opener := encryption.NewKeys(resolve, ttl)
		env, err := sealer.Seal(ctx, "in-memory-kms://seal-test", encryption.AES256GCM, []byte("secret"), aad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if pt, err := opener.Open(ctx, env, aad); err != nil || string(pt) != "secret" {
			t.Fatalf("Open = %q, %v", pt, err)
		}
		if _, err := sealer.Seal(ctx, "gateway-kms://k", encryption.AES256GCM, []byte("secret"), aad); err == nil || !strings.Contains(err.Error(), "not configured") {
			t.Fatalf("Seal with an unconfigured KMS: %v", err)
		}
	}
}

func TestConfig(t *testing.T) {
	ms := func(v int64) *int64 { return &v }
	tests := []struct {
		c   *Config
		ttl time.Duration
		err bool
	}{
		{nil, DefaultTTL, false},
		{&Config{}, DefaultTTL, false},
		{&Config{KeyTTLMs: ms(0)}, 0, false},
		{&Config{KeyTTLMs: ms(1500)}, 1500 * time.Millisecond, false},
		{&Config{KeyTTLMs: ms(-1)}, -time.Millisecond, true},
	}
	for _, tt := range tests {
		if got := tt.c.TTL(); got != tt.ttl {
			t.Errorf("TTL = %v, want %v", got, tt.ttl)
		}
		err := tt.c.Check("interceptors[0].config.kmsConfig")
		if (err != nil) != tt.err {
			t.Errorf("Check = %v, want error %v", err, tt.err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "interceptors[0].config.kmsConfig.keyTtlMs") {
			t.Errorf("Check error %q does not name the field", err)
		}
	}
}
