package kms

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"github.com/tink-crypto/tink-go/v2/aead/subtle"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// memory is the in-memory KMS: a random AES-256-GCM key-encryption key per
// key id, made on first use and kept for the life of the process, shared
// by every interceptor of the node.
var memory = &memoryKMS{keks: map[string]tink.AEAD{}}

type memoryKMS struct {
	mu   sync.Mutex
	keks map[string]tink.AEAD
}

func (m *memoryKMS) kek(keyID string) (tink.AEAD, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keks[keyID]; ok {
		return k, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("kms: in-memory key: %w", err)
	}
	k, err := subtle.NewAESGCM(raw)
	if err != nil {
		return nil, fmt.Errorf("kms: in-memory key: %w", err)
	}
	m.keks[keyID] = k
	return k, nil
}

// Wrap encrypts dek under the key id's key, bound to the key id.
func (m *memoryKMS) Wrap(_ context.Context, keyID string, dek []byte) ([]byte, error) {
	k, err := m.kek(keyID)
	if err != nil {
		return nil, err
	}
	return k.Encrypt(dek, []byte(keyID))
}

// Unwrap decrypts a wrapped DEK.
func (m *memoryKMS) Unwrap(_ context.Context, keyID string, wrapped []byte) ([]byte, error) {
	k, err := m.kek(keyID)
	if err != nil {
		return nil, err
	}
	dek, err := k.Decrypt(wrapped, []byte(keyID))
	if err != nil {
		return nil, fmt.Errorf("kms: in-memory key %s cannot unwrap this data key (made by another node or before a restart?)", keyID)
	}
	return dek, nil
}
