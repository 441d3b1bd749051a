package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"sync"
)

// memory is the in-memory KMS: a random AES-256-GCM key-encryption key per
// key id, made on first use and kept for the life of the process, shared
// by every interceptor of the node.
var memory = &memoryKMS{keks: map[string]cipher.AEAD{}}

type memoryKMS struct {
	mu   sync.Mutex
	keks map[string]cipher.AEAD
}

func (m *memoryKMS) kek(keyID string) (cipher.AEAD, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keks[keyID]; ok {
		return k, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("kms: in-memory key: %w", err)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("kms: in-memory key: %w", err)
	}
	k, err := cipher.NewGCM(block)
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
	nonce := make([]byte, k.NonceSize(), k.NonceSize()+len(dek)+k.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("kms: in-memory key: %w", err)
	}
	return k.Seal(nonce, nonce, dek, []byte(keyID)), nil
}

// Unwrap decrypts a wrapped DEK.
func (m *memoryKMS) Unwrap(_ context.Context, keyID string, wrapped []byte) ([]byte, error) {
	k, err := m.kek(keyID)
	if err != nil {
		return nil, err
	}
	n := k.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("kms: in-memory key %s: the wrapped data key is cut short", keyID)
	}
	dek, err := k.Open(nil, wrapped[:n], wrapped[n:], []byte(keyID))
	if err != nil {
		return nil, fmt.Errorf("kms: in-memory key %s cannot unwrap this data key (made by another node or before a restart?)", keyID)
	}
	return dek, nil
}
