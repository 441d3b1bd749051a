package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
)

// The SCRAM mechanisms, by their SASL names.
const (
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// The iteration counts a SCRAM credential may use: Kafka's bounds.
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// saltLen is the size of the salts NewCredential draws.
const saltLen = 32

// Credential is what a server stores to check a SCRAM password without
// knowing it (RFC 5802). In JSON the byte fields are base64.
type Credential struct {
	// Mechanism is ScramSHA256 or ScramSHA512.
	Mechanism string `json:"mechanism"`
	// Salt is the PBKDF2 salt.
	Salt []byte `json:"salt"`
	// Iterations is the PBKDF2 iteration count.
	Iterations int `json:"iterations"`
	// StoredKey is H(HMAC(SaltedPassword, "Client Key")).
	StoredKey []byte `json:"storedKey"`
	// ServerKey is HMAC(SaltedPassword, "Server Key").
	ServerKey []byte `json:"serverKey"`
}

// NewCredential derives the credential for a password with a fresh random
// 32-byte salt. iterations must lie between MinIterations and
// MaxIterations.
func NewCredential(mechanism, password string, iterations int) (Credential, error) {
	h := scramHash(mechanism)
	switch {
	case h == nil:
		return Credential{}, fmt.Errorf("auth: unknown SCRAM mechanism %q", mechanism)
	case password == "":
		return Credential{}, errors.New("auth: empty SCRAM password")
	case iterations < MinIterations || iterations > MaxIterations:
		return Credential{}, fmt.Errorf("auth: SCRAM iterations %d outside %d..%d", iterations, MinIterations, MaxIterations)
	}
	return deriveCredential(mechanism, password, randomBytes(saltLen), iterations)
}

// deriveCredential computes a credential (RFC 5802 section 3):
// SaltedPassword = PBKDF2(password, salt, iterations), StoredKey =
// H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword,
// "Server Key").
func deriveCredential(mechanism, password string, salt []byte, iterations int) (Credential, error) {
	h := scramHash(mechanism)
	salted, err := pbkdf2.Key(h, password, salt, iterations, h().Size())
	if err != nil {
		return Credential{}, fmt.Errorf("auth: derive SCRAM credential: %w", err)
	}
	stored := h()
	stored.Write(hmacSum(h, salted, "Client Key"))
	return Credential{
		Mechanism:  mechanism,
		Salt:       salt,
		Iterations: iterations,
		StoredKey:  stored.Sum(nil),
		ServerKey:  hmacSum(h, salted, "Server Key"),
	}, nil
}

// usableFor reports whether the credential is well formed for mechanism;
// one that is not is treated like an unknown user.
func (c Credential) usableFor(mechanism string) bool {
	h := scramHash(c.Mechanism)
	return c.Mechanism == mechanism && h != nil &&
		len(c.Salt) > 0 &&
		c.Iterations >= MinIterations && c.Iterations <= MaxIterations &&
		len(c.StoredKey) == h().Size() && len(c.ServerKey) == h().Size()
}

// scramHash returns the hash of a SCRAM mechanism, nil for other names.
func scramHash(mechanism string) func() hash.Hash {
	switch mechanism {
	case ScramSHA256:
		return sha256.New
	case ScramSHA512:
		return sha512.New
	}
	return nil
}

// hmacSum returns HMAC(key, the concatenation of parts).
func hmacSum(h func() hash.Hash, key []byte, parts ...string) []byte {
	mac := hmac.New(h, key)
	for _, p := range parts {
		mac.Write([]byte(p))
	}
	return mac.Sum(nil)
}

// unknownUserKey keys the stand-in credentials of unknown users. It is
// random per process, so nobody can predict a stand-in salt, and fixed for
// the process, so asking twice for an unknown name gives the same salt, as
// it would for a real user.
var unknownUserKey = randomBytes(32)

// standInCredential is the credential a SCRAM conversation runs with when
// the user does not exist: derived from the name, it makes the exchange
// look and take as long as a real one until the proof fails.
func standInCredential(mechanism, username string) Credential {
	h := scramHash(mechanism)
	derive := func(label string) []byte {
		return hmacSum(h, unknownUserKey, label, "\x00", mechanism, "\x00", username)
	}
	return Credential{
		Mechanism:  mechanism,
		Salt:       derive("salt")[:saltLen],
		Iterations: MinIterations,
		StoredKey:  derive("stored key"),
		ServerKey:  derive("server key"),
	}
}
