// Package azurekms wraps data keys with RSA keys kept in Azure Key Vault
// (keySecretIds azure-kms://<vault>.vault.azure.net/keys/<name>[/<version>]),
// using the WrapKey and UnwrapKey operations with RSA-OAEP-256.
package azurekms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

// KMS is an Azure Key Vault client. It is safe for concurrent use.
type KMS struct {
	cred     azcore.TokenCredential
	endpoint string               // replaces https://<vault host> if set
	opts     azkeys.ClientOptions // tests set Transport

	mu      sync.Mutex
	clients map[string]*azkeys.Client // by vault URL
}

// New returns a KMS for a checked configuration. It does no I/O: tokens
// are fetched on first use.
func New(c *Config) (*KMS, error) {
	if c == nil {
		c = &Config{}
	}
	var cred azcore.TokenCredential
	var err error
	switch {
	case c.TokenCredential != nil:
		t := c.TokenCredential
		cred, err = azidentity.NewClientSecretCredential(t.TenantID, t.ClientID, t.ClientSecret, nil)
	case c.UsernamePasswordCredential != nil:
		u := c.UsernamePasswordCredential
		// Deprecated upstream (it cannot do multifactor authentication),
		// but configurations of other gateways use it.
		cred, err = azidentity.NewUsernamePasswordCredential(u.TenantID, u.ClientID, u.Username, u.Password, nil)
	default:
		cred, err = azidentity.NewDefaultAzureCredential(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("azurekms: credential: %w", err)
	}
	k := &KMS{cred: cred, endpoint: strings.TrimSuffix(c.Endpoint, "/"), clients: map[string]*azkeys.Client{}}
	// A private endpoint's host differs from the vault domain the
	// authentication challenge names.
	k.opts.DisableChallengeResourceVerification = k.endpoint != ""
	return k, nil
}

// client returns the client of a key's vault.
func (k *KMS) client(id keyID) (*azkeys.Client, error) {
	vault := "https://" + id.host
	if k.endpoint != "" {
		vault = k.endpoint
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.clients[vault]; ok {
		return c, nil
	}
	c, err := azkeys.NewClient(vault, k.cred, &k.opts)
	if err != nil {
		return nil, fmt.Errorf("azurekms: client of %s: %w", vault, err)
	}
	k.clients[vault] = c
	return c, nil
}

// Wrap encrypts dek with the key's named version, or its current version
// when the key id names none. The result records the version used, so
// Unwrap keeps working after the key is rotated.
func (k *KMS) Wrap(ctx context.Context, keyID string, dek []byte) ([]byte, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return nil, err
	}
	c, err := k.client(id)
	if err != nil {
		return nil, err
	}
	alg := azkeys.EncryptionAlgorithmRSAOAEP256
	resp, err := c.WrapKey(ctx, id.name, id.version, azkeys.KeyOperationParameters{Algorithm: &alg, Value: dek}, nil)
	if err != nil {
		return nil, fmt.Errorf("azurekms: wrap with %s: %w", keyID, err)
	}
	version := id.version
	if resp.KID != nil {
		version = resp.KID.Version()
	}
	if !isName(version, 1, 255, false) || len(resp.Result) == 0 {
		return nil, fmt.Errorf("azurekms: wrap with %s: the vault's answer names no key version or has no value", keyID)
	}
	return appendWrapped(nil, version, resp.Result), nil
}

// Unwrap decrypts a data key wrapped by Wrap, with the version that
// wrapped it.
func (k *KMS) Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return nil, err
	}
	version, ct, err := parseWrapped(wrapped)
	if err != nil {
		return nil, err
	}
	if id.version != "" && id.version != version {
		return nil, fmt.Errorf("azurekms: unwrap with %s: data key was wrapped by version %s", keyID, version)
	}
	c, err := k.client(id)
	if err != nil {
		return nil, err
	}
	alg := azkeys.EncryptionAlgorithmRSAOAEP256
	resp, err := c.UnwrapKey(ctx, id.name, version, azkeys.KeyOperationParameters{Algorithm: &alg, Value: ct}, nil)
	if err != nil {
		return nil, fmt.Errorf("azurekms: unwrap with %s version %s: %w", keyID, version, err)
	}
	return resp.Result, nil
}

// A wrapped data key is: 1 byte n, n bytes key version (ASCII), the
// vault's RSA-OAEP-256 ciphertext.
func appendWrapped(b []byte, version string, ct []byte) []byte {
	b = append(b, byte(len(version)))
	b = append(b, version...)
	return append(b, ct...)
}

// errWrapped reports a wrapped data key that is not one Wrap made.
var errWrapped = errors.New("azurekms: malformed wrapped data key")

func parseWrapped(b []byte) (version string, ct []byte, err error) {
	if len(b) < 1 {
		return "", nil, errWrapped
	}
	n := int(b[0])
	if len(b) < 1+n+1 {
		return "", nil, errWrapped
	}
	version = string(b[1 : 1+n])
	if !isName(version, 1, 255, false) {
		return "", nil, errWrapped
	}
	return version, b[1+n:], nil
}
