package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrExpired is wrapped by the errors for tokens whose expiry has passed,
// so callers can tell an old credential from a forged one.
var ErrExpired = errors.New("auth: token expired")

// minKeyLen is the shortest signing secret accepted: 256 bits, the output
// size of SHA-256.
const minKeyLen = 32

// Keys holds the secrets gateway tokens are signed with; make one with
// ParseKeys. The first signs;
// every one verifies, so the signing secret rotates without downtime:
// deploy "new,old", and tokens signed with old stay valid until old is
// removed from the list.
type Keys struct {
	keys []hmacKey
}

// hmacKey is one signing secret and its key id.
type hmacKey struct {
	id     string // first 8 hex digits of SHA-256(secret), the JWT kid
	secret []byte
}

// Claims are the verified contents of a gateway token.
type Claims struct {
	// VCluster is the virtual cluster the token is for; may be "".
	VCluster string
	// Username is the service account the token authenticates.
	Username string
	// ID is the token's unique id (jti).
	ID string
	// IssuedAt is when the token was issued (iat).
	IssuedAt time.Time
	// Expires is when the token stops being valid (exp).
	Expires time.Time
}

// ParseKeys reads a comma-separated list of base64 secrets (standard or URL
// alphabet, padded or not), each at least 32 bytes once decoded. Errors
// name a secret by its position, never by its value.
func ParseKeys(spec string) (*Keys, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("auth: no token signing keys")
	}
	k := &Keys{}
	for i, field := range strings.Split(spec, ",") {
		secret, err := decodeSecret(strings.TrimSpace(field))
		if err != nil {
			return nil, fmt.Errorf("auth: token signing key %d: %w", i+1, err)
		}
		sum := sha256.Sum256(secret)
		key := hmacKey{id: hex.EncodeToString(sum[:4]), secret: secret}
		for j, other := range k.keys {
			if hmac.Equal(other.secret, secret) {
				return nil, fmt.Errorf("auth: token signing key %d repeats key %d", i+1, j+1)
			}
		}
		k.keys = append(k.keys, key)
	}
	return k, nil
}

// decodeSecret decodes one base64 secret in any of the four spellings.
func decodeSecret(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	s = strings.NewReplacer("-", "+", "_", "/").Replace(strings.TrimRight(s, "="))
	secret, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(secret) < minKeyLen {
		return nil, fmt.Errorf("%d bytes, want at least %d", len(secret), minKeyLen)
	}
	return secret, nil
}

// String names the keys by their ids, so that printing a Keys never shows
// a secret.
func (k *Keys) String() string {
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.id
	}
	return "auth.Keys(" + strings.Join(ids, ",") + ")"
}

// tokenHeader is the JOSE header of gateway tokens.
type tokenHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// tokenClaims is the claims set of gateway tokens, as issued.
type tokenClaims struct {
	Username string `json:"username"`
	VCluster string `json:"vcluster"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Jti      string `json:"jti"`
}

// Issue signs a token for username in vcluster, valid for lifetime from
// now (whole seconds), with the first key. It returns the token and its id
// (jti, 16 random bytes in hex).
func (k *Keys) Issue(vcluster, username string, lifetime time.Duration, now time.Time) (token, id string, err error) {
	if username == "" {
		return "", "", errors.New("auth: token username is empty")
	}
	if lifetime < time.Second {
		return "", "", errors.New("auth: token lifetime must be at least a second")
	}
	id = hex.EncodeToString(randomBytes(16))
	header, err := json.Marshal(tokenHeader{Alg: "HS256", Kid: k.keys[0].id, Typ: "JWT"})
	if err != nil {
		return "", "", fmt.Errorf("auth: encode token header: %w", err)
	}
	claims, err := json.Marshal(tokenClaims{
		Username: username,
		VCluster: vcluster,
		Exp:      now.Add(lifetime).Unix(),
		Iat:      now.Unix(),
		Jti:      id,
	})
	if err != nil {
		return "", "", fmt.Errorf("auth: encode token claims: %w", err)
	}
	signed := encodeSegment(header) + "." + encodeSegment(claims)
	return signed + "." + encodeSegment(k.keys[0].sign([]byte(signed))), id, nil
}

// Verify checks a token's algorithm (exactly HS256), signature and expiry
// at now, and returns its claims. An expired token's error wraps
// ErrExpired. Errors never quote the token.
func (k *Keys) Verify(token string, now time.Time) (Claims, error) {
	t, err := parseJWS(token)
	if err != nil {
		return Claims{}, err
	}
	if t.alg != "HS256" {
		return Claims{}, errors.New("auth: unsupported token algorithm, want HS256")
	}
	if err := k.verifySignature(t); err != nil {
		return Claims{}, err
	}
	c, err := decodeClaimSet(t.payload)
	if err != nil {
		return Claims{}, malformed("claims are not a JSON object")
	}
	claims, err := gatewayClaims(c)
	if err != nil {
		return Claims{}, fmt.Errorf("auth: invalid token: %w", err)
	}
	if !now.Before(claims.Expires) {
		return Claims{}, fmt.Errorf("%w at %s", ErrExpired, claims.Expires.UTC().Format(time.RFC3339))
	}
	return claims, nil
}

// verifySignature checks the signature with the key the token's kid names,
// or with every key when it names none.
func (k *Keys) verifySignature(t jws) error {
	tried := false
	for _, key := range k.keys {
		if t.kid != "" && t.kid != key.id {
			continue
		}
		tried = true
		if hmac.Equal(key.sign(t.signed), t.sig) {
			return nil
		}
	}
	if !tried {
		return errors.New("auth: token signed with an unknown key")
	}
	return errors.New("auth: bad signature")
}

// sign returns the HS256 signature of data.
func (key hmacKey) sign(data []byte) []byte {
	mac := hmac.New(sha256.New, key.secret)
	mac.Write(data)
	return mac.Sum(nil)
}

// gatewayClaims reads the claims of a gateway token: username, jti, exp and
// iat are required, vcluster may be empty.
func gatewayClaims(c claimSet) (Claims, error) {
	var claims Claims
	var ok bool
	var err error
	if claims.Username, _, err = c.str("username"); err != nil || claims.Username == "" {
		return Claims{}, errors.New("missing or invalid username")
	}
	if claims.ID, _, err = c.str("jti"); err != nil || claims.ID == "" {
		return Claims{}, errors.New("missing or invalid jti")
	}
	if claims.VCluster, _, err = c.str("vcluster"); err != nil {
		return Claims{}, err
	}
	if claims.Expires, ok, err = c.date("exp"); err != nil || !ok {
		return Claims{}, errors.New("missing or invalid exp")
	}
	if claims.IssuedAt, ok, err = c.date("iat"); err != nil || !ok {
		return Claims{}, errors.New("missing or invalid iat")
	}
	return claims, nil
}

// randomBytes returns n bytes from the system's secure random source.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return b
}
