// Package gcptest is an in-process fake of the Cloud KMS REST calls gcpkms
// makes: encrypt and decrypt of symmetric keys with real AES-256-GCM,
// additional authenticated data, CRC32C checksums and primary version
// rotation. It serves plain HTTP on 127.0.0.1 and wants a bearer token.
package gcptest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Fake is a fake Cloud KMS. Close it when done.
type Fake struct {
	srv   *httptest.Server
	token string

	mu      sync.Mutex
	keys    map[string]*key // by key name projects/.../cryptoKeys/<k>
	account *rsa.PublicKey  // of the service account, once written
}

type key struct {
	versions []cipher.AEAD // version n is versions[n-1]
	primary  int           // version number
}

// New starts a fake Cloud KMS with no keys.
func New() *Fake {
	f := &Fake{token: rand.Text(), keys: map[string]*key{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the fake's endpoint (http://127.0.0.1:port).
func (f *Fake) URL() string { return f.srv.URL }

// Token is the bearer token the fake accepts.
func (f *Fake) Token() string { return f.token }

// Close stops the fake.
func (f *Fake) Close() { f.srv.Close() }

// Rotate adds a version to a key, creating the key if needed, makes it
// the primary and returns its number.
func (f *Fake) Rotate(name string) int {
	raw := make([]byte, 32)
	rand.Read(raw)
	b, _ := aes.NewCipher(raw) // a 32-byte key never fails
	g, _ := cipher.NewGCM(b)   // nor does the standard nonce size
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[name]
	if k == nil {
		k = &key{}
		f.keys[name] = k
	}
	k.versions = append(k.versions, g)
	k.primary = len(k.versions)
	return k.primary
}

// message is the JSON request or response of encrypt and decrypt.
// Byte fields are standard base64; int64 checksums are decimal strings.
type message struct {
	Name                                      string `json:"name,omitempty"`
	Plaintext                                 []byte `json:"plaintext,omitempty"`
	Ciphertext                                []byte `json:"ciphertext,omitempty"`
	AdditionalAuthenticatedData               []byte `json:"additionalAuthenticatedData,omitempty"`
	PlaintextCrc32c                           string `json:"plaintextCrc32c,omitempty"`
	CiphertextCrc32c                          string `json:"ciphertextCrc32c,omitempty"`
	AdditionalAuthenticatedDataCrc32c         string `json:"additionalAuthenticatedDataCrc32c,omitempty"`
	VerifiedPlaintextCrc32c                   bool   `json:"verifiedPlaintextCrc32c,omitempty"`
	VerifiedAdditionalAuthenticatedDataCrc32c bool   `json:"verifiedAdditionalAuthenticatedDataCrc32c,omitempty"`
	UsedPrimary                               bool   `json:"usedPrimary,omitempty"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) string { return strconv.FormatUint(uint64(crc32.Checksum(b, castagnoli)), 10) }

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		f.serveToken(w, r)
		return
	}
	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		fail(w, http.StatusUnauthorized, "UNAUTHENTICATED", "request has no credentials")
		return
	case auth != "Bearer "+f.token:
		fail(w, http.StatusForbidden, "PERMISSION_DENIED", "permission denied")
		return
	}
	path, op, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), ":")
	if r.Method != http.MethodPost || !ok || (op != "encrypt" && op != "decrypt") {
		fail(w, http.StatusNotFound, "NOT_FOUND", "no such method")
		return
	}
	var in message
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "INVALID_ARGUMENT", "body is not JSON")
		return
	}
	data := in.Plaintext
	sum := in.PlaintextCrc32c
	if op == "decrypt" {
		data, sum = in.Ciphertext, in.CiphertextCrc32c
	}
	if sum != "" && sum != crc(data) || in.AdditionalAuthenticatedDataCrc32c != "" && in.AdditionalAuthenticatedDataCrc32c != crc(in.AdditionalAuthenticatedData) {
		fail(w, http.StatusBadRequest, "INVALID_ARGUMENT", "checksum mismatch")
		return
	}
	f.mu.Lock()
	k := f.keys[path]
	var versions []cipher.AEAD
	primary := 0
	if k != nil {
		versions, primary = k.versions, k.primary
	}
	f.mu.Unlock()
	if k == nil {
		fail(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("CryptoKey %s not found", path))
		return
	}
	out := message{VerifiedAdditionalAuthenticatedDataCrc32c: in.AdditionalAuthenticatedDataCrc32c != ""}
	if op == "encrypt" {
		// Ciphertext: 4-byte version number, nonce, AES-GCM output.
		g := versions[primary-1]
		ct := binary.BigEndian.AppendUint32(nil, uint32(primary))
		nonce := make([]byte, g.NonceSize())
		rand.Read(nonce)
		ct = g.Seal(append(ct, nonce...), nonce, in.Plaintext, in.AdditionalAuthenticatedData)
		out.Name = fmt.Sprintf("%s/cryptoKeyVersions/%d", path, primary)
		out.Ciphertext, out.CiphertextCrc32c = ct, crc(ct)
		out.VerifiedPlaintextCrc32c = in.PlaintextCrc32c != ""
	} else {
		pt, v, ok := open(versions, in.Ciphertext, in.AdditionalAuthenticatedData)
		if !ok {
			fail(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
			return
		}
		out.Plaintext, out.PlaintextCrc32c, out.UsedPrimary = pt, crc(pt), v == primary
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// open decrypts a ciphertext made by encrypt with the version it names.
func open(versions []cipher.AEAD, ct, aad []byte) ([]byte, int, bool) {
	if len(ct) < 4 {
		return nil, 0, false
	}
	v := int(binary.BigEndian.Uint32(ct))
	if v < 1 || v > len(versions) {
		return nil, 0, false
	}
	g := versions[v-1]
	if len(ct) < 4+g.NonceSize() {
		return nil, 0, false
	}
	pt, err := g.Open(nil, ct[4:4+g.NonceSize()], ct[4+g.NonceSize():], aad)
	return pt, v, err == nil
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": code}})
}
