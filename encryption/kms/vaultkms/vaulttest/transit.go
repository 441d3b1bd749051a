package vaulttest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// key is a Transit key of type aes256-gcm96: one AES-256 key per version.
type key struct {
	versions [][]byte // versions[i] is version i+1
}

func newKey() *key {
	k := &key{}
	k.rotate()
	return k
}

func (k *key) rotate() {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	k.versions = append(k.versions, b)
}

func (k *key) aead(version int) cipher.AEAD {
	block, _ := aes.NewCipher(k.versions[version-1]) // 32 bytes: never fails
	a, _ := cipher.NewGCM(block)
	return a
}

// encrypt returns Vault's ciphertext: vault:v<N>: and the base64 of the
// 12-byte nonce followed by the sealed plaintext.
func (k *key) encrypt(plaintext []byte) (string, int) {
	v := len(k.versions)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	ct := k.aead(v).Seal(nonce, nonce, plaintext, nil)
	return "vault:v" + strconv.Itoa(v) + ":" + base64.StdEncoding.EncodeToString(ct), v
}

// decrypt opens a ciphertext made by encrypt with any version of the key.
func (k *key) decrypt(ciphertext string) ([]byte, error) {
	rest, ok := strings.CutPrefix(ciphertext, "vault:")
	if !ok {
		return nil, fmt.Errorf("invalid ciphertext: no prefix")
	}
	ver, body, ok := strings.Cut(rest, ":")
	n, err := strconv.Atoi(strings.TrimPrefix(ver, "v"))
	if !ok || !strings.HasPrefix(ver, "v") || err != nil || n < 1 {
		return nil, fmt.Errorf("invalid ciphertext: wrong version")
	}
	if n > len(k.versions) {
		return nil, fmt.Errorf("invalid key version")
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil || len(raw) < 12 {
		return nil, fmt.Errorf("invalid ciphertext: could not decode base64")
	}
	pt, err := k.aead(n).Open(nil, raw[:12], raw[12:], nil)
	if err != nil {
		return nil, fmt.Errorf("cipher: message authentication failed")
	}
	return pt, nil
}

// transit answers a request to a Transit engine: keys/<name>,
// keys/<name>/rotate, encrypt/<name> or decrypt/<name> under a mount.
// Keys of different namespaces are apart.
func (s *Server) transit(w http.ResponseWriter, r *http.Request, namespace, path string) {
	s.mu.Lock()
	mount := ""
	for m := range s.mounts {
		if strings.HasPrefix(path, m+"/") && len(m) > len(mount) {
			mount = m
		}
	}
	s.mu.Unlock()
	if mount == "" {
		fail(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", path))
		return
	}
	op, name, _ := strings.Cut(strings.TrimPrefix(path, mount+"/"), "/")
	rotate := false
	if n, ok := strings.CutSuffix(name, "/rotate"); ok && op == "keys" {
		name, rotate = n, true
	}
	if name == "" || strings.Contains(name, "/") {
		fail(w, http.StatusNotFound, "unsupported path")
		return
	}
	id := namespace + "\x00" + mount + "\x00" + name
	switch op {
	case "keys":
		s.writeKey(w, r, id, name, rotate)
	case "encrypt":
		s.encrypt(w, r, id)
	case "decrypt":
		s.decrypt(w, r, id)
	default:
		fail(w, http.StatusNotFound, "unsupported path")
	}
}

// writeKey creates a key (a no-op when it exists) or rotates one.
func (s *Server) writeKey(w http.ResponseWriter, r *http.Request, id, name string, rotate bool) {
	var req struct {
		Type string `json:"type"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Type != "" && req.Type != "aes256-gcm96" {
		fail(w, http.StatusBadRequest, "vaulttest: only key type aes256-gcm96 is faked")
		return
	}
	s.mu.Lock()
	k := s.keys[id]
	switch {
	case k == nil && rotate:
		s.mu.Unlock()
		fail(w, http.StatusBadRequest, "encryption key not found")
		return
	case k == nil:
		k = newKey()
		s.keys[id] = k
	case rotate:
		k.rotate()
	}
	latest := len(k.versions)
	s.mu.Unlock()
	reply(w, map[string]any{"data": map[string]any{
		"name": name, "type": "aes256-gcm96", "latest_version": latest,
		"min_decryption_version": 1, "supports_encryption": true, "supports_decryption": true,
	}})
}

// encrypt seals a base64 plaintext with the key's latest version,
// creating the key when it does not exist.
func (s *Server) encrypt(w http.ResponseWriter, r *http.Request, id string) {
	var req struct {
		Plaintext *string `json:"plaintext"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Plaintext == nil {
		fail(w, http.StatusBadRequest, "missing plaintext to encrypt")
		return
	}
	pt, err := base64.StdEncoding.DecodeString(*req.Plaintext)
	if err != nil {
		fail(w, http.StatusBadRequest, "failed to base64-decode plaintext")
		return
	}
	s.mu.Lock()
	k := s.keys[id]
	if k == nil {
		k = newKey()
		s.keys[id] = k
	}
	ct, v := k.encrypt(pt)
	s.mu.Unlock()
	reply(w, map[string]any{"data": map[string]any{"ciphertext": ct, "key_version": v}})
}

// decrypt opens a ciphertext made by encrypt.
func (s *Server) decrypt(w http.ResponseWriter, r *http.Request, id string) {
	var req struct {
		Ciphertext string `json:"ciphertext"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Ciphertext == "" {
		fail(w, http.StatusBadRequest, "missing ciphertext to decrypt")
		return
	}
	s.mu.Lock()
	k := s.keys[id]
	if k == nil {
		s.mu.Unlock()
		fail(w, http.StatusBadRequest, "encryption key not found")
		return
	}
	pt, err := k.decrypt(req.Ciphertext)
	s.mu.Unlock()
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	reply(w, map[string]any{"data": map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}})
}
