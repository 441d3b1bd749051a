package encryption

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Algorithm is an AEAD that encrypts data under a DEK. Its number is
// written in envelopes and never changes.
type Algorithm byte

// The algorithms; AES128_GCM is the default.
const (
	AES128GCM         Algorithm = 1
	AES256GCM         Algorithm = 2
	ChaCha20Poly1305  Algorithm = 3
	XChaCha20Poly1305 Algorithm = 4
)

var algorithms = map[Algorithm]struct {
	name     string
	keyLen   int
	overhead int // nonce and tag
}{
	AES128GCM:         {"AES128_GCM", 16, 28},
	AES256GCM:         {"AES256_GCM", 32, 28},
	ChaCha20Poly1305:  {"CHACHA20_POLY1305", 32, 28},
	XChaCha20Poly1305: {"XCHACHA20_POLY1305", 32, 40},
}

// ParseAlgorithm reads an algorithm name; "" is AES128_GCM, and AES_GCM,
// an older name, is AES128_GCM too.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch n := strings.ToUpper(strings.TrimSpace(s)); n {
	case "", "AES_GCM":
		return AES128GCM, nil
	default:
		for a, d := range algorithms {
			if d.name == n {
				return a, nil
			}
		}
	}
	return 0, fmt.Errorf("unknown algorithm %q; expect AES128_GCM, AES256_GCM, CHACHA20_POLY1305 or XCHACHA20_POLY1305", s)
}

// String returns the algorithm's name.
func (a Algorithm) String() string {
	if d, ok := algorithms[a]; ok {
		return d.name
	}
	return fmt.Sprintf("algorithm(%d)", byte(a))
}

func (a Algorithm) valid() bool   { _, ok := algorithms[a]; return ok }
func (a Algorithm) keyLen() int   { return algorithms[a].keyLen }
func (a Algorithm) overhead() int { return algorithms[a].overhead }

// MarshalText writes the algorithm's name.
func (a Algorithm) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an algorithm name, as ParseAlgorithm does.
func (a *Algorithm) UnmarshalText(b []byte) error {
	v, err := ParseAlgorithm(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// aead makes the algorithm's cipher from a DEK. These are Go's AES-GCM
// and x/crypto's (X)ChaCha20-Poly1305, the implementations tink-go wraps,
// used directly so an item is sealed into its envelope in one pass.
// Nonces are random, one per item, written before the ciphertext.
func (a Algorithm) aead(dek []byte) (cipher.AEAD, error) {
	if len(dek) != a.keyLen() {
		return nil, fmt.Errorf("encryption: %s needs a %d-byte key, the data key has %d bytes", a, a.keyLen(), len(dek))
	}
	switch a {
	case AES128GCM, AES256GCM:
		block, err := aes.NewCipher(dek)
		if err != nil {
			return nil, fmt.Errorf("encryption: %s: %w", a, err)
		}
		return cipher.NewGCM(block)
	case ChaCha20Poly1305:
		return chacha20poly1305.New(dek)
	case XChaCha20Poly1305:
		return chacha20poly1305.NewX(dek)
	}
	return nil, fmt.Errorf("encryption: unknown algorithm %d", byte(a))
}
