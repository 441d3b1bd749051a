package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/strait-gateway/strait/encryption"
)

// GatewayConfig is kmsConfig.gateway: data keys kept by the gateway
// cluster itself, in its keys topic, wrapped by a master key of another
// KMS.
type GatewayConfig struct {
	MasterKeyID string `json:"masterKeyId" doc:"keySecretId of the master key that wraps the data keys (vault-kms://, aws-kms://, ...; not gateway-kms://); decryption needs the same one"`
	MaxKeys     *int   `json:"maxKeys" doc:"how many unwrapped data keys an interceptor keeps to spare master-key calls (default 1000000)"`
}

// DefaultMaxKeys is the default of kmsConfig.gateway.maxKeys.
const DefaultMaxKeys = 1_000_000

// Check validates the block without I/O.
func (g *GatewayConfig) Check() error {
	if g == nil {
		return nil
	}
	switch {
	case g.MasterKeyID == "":
		return errors.New("masterKeyId: required: the keySecretId of the key that wraps gateway-kms:// data keys")
	case strings.HasPrefix(g.MasterKeyID, Gateway):
		return fmt.Errorf("masterKeyId: %q: the master key must be kept by another KMS than gateway-kms://", g.MasterKeyID)
	case strings.Contains(g.MasterKeyID, "{{"):
		return fmt.Errorf("masterKeyId: %q: must name one key, without placeholders", g.MasterKeyID)
	case g.MaxKeys != nil && *g.MaxKeys < 1:
		return fmt.Errorf("maxKeys: %d: must be at least 1", *g.MaxKeys)
	}
	if err := CheckKeySecretID(g.MasterKeyID); err != nil {
		return fmt.Errorf("masterKeyId: %w", err)
	}
	return nil
}

// gatewayKMS keeps data keys in the gateway cluster's key store, wrapped
// by a master key: what a record carries is the store's reference to its
// data key, so tombstoning the key in the store shreds the records.
type gatewayKMS struct {
	store   encryption.KeyStore
	master  func() (encryption.KMS, string, error)
	maxKeys int

	mu    sync.Mutex
	cache map[string][]byte // unwrapped data keys by key id and reference
}

func newGatewayKMS(store encryption.KeyStore, master func() (encryption.KMS, string, error), maxKeys int) *gatewayKMS {
	return &gatewayKMS{store: store, master: master, maxKeys: maxKeys, cache: map[string][]byte{}}
}

// Wrap wraps dek with the master key, stores it and returns its reference.
func (g *gatewayKMS) Wrap(ctx context.Context, keyID string, dek []byte) ([]byte, error) {
	m, masterID, err := g.master()
	if err != nil {
		return nil, fmt.Errorf("kms: gateway master key: %w", err)
	}
	wrapped, err := m.Wrap(ctx, masterID, dek)
	if err != nil {
		return nil, fmt.Errorf("kms: gateway master key: %w", err)
	}
	ref, err := g.store.Put(ctx, keyID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("kms: gateway key %s: %w", keyID, err)
	}
	g.keep(keyID, ref, dek)
	return ref, nil
}

// Unwrap fetches the data key a reference names and unwraps it with the
// master key.
func (g *gatewayKMS) Unwrap(ctx context.Context, keyID string, ref []byte) ([]byte, error) {
	id := keyID + "\x00" + string(ref)
	g.mu.Lock()
	dek, ok := g.cache[id]
	if g.store.Revoked(keyID, ref) {
		delete(g.cache, id)
		g.mu.Unlock()
		return nil, fmt.Errorf("kms: gateway key %s has been crypto-shredded", keyID)
	}
	g.mu.Unlock()
	if ok {
		return dek, nil
	}
	wrapped, err := g.store.Get(ctx, keyID, ref)
	if err != nil {
		return nil, fmt.Errorf("kms: gateway key %s: %w", keyID, err)
	}
	m, masterID, err := g.master()
	if err != nil {
		return nil, fmt.Errorf("kms: gateway master key: %w", err)
	}
	if dek, err = m.Unwrap(ctx, masterID, wrapped); err != nil {
		return nil, fmt.Errorf("kms: gateway key %s: master key: %w", keyID, err)
	}
	g.keep(keyID, ref, dek)
	return dek, nil
}

// Revoked reports whether the key was crypto-shredded.
func (g *gatewayKMS) Revoked(keyID string, ref []byte) bool {
	return g.store.Revoked(keyID, ref)
}

// keep caches an unwrapped data key, dropping any one when full.
func (g *gatewayKMS) keep(keyID string, ref, dek []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.cache) >= g.maxKeys {
		for k := range g.cache {
			delete(g.cache, k)
			break
		}
	}
	g.cache[keyID+"\x00"+string(ref)] = dek
}
