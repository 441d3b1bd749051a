package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// jwksRetry is the least time between two JWKS fetches, however many tokens
// name an unknown key: enough to follow a key rotation at the identity
// provider quickly without letting clients make the gateway hammer it.
const jwksRetry = 10 * time.Second

// maxJWKSSize bounds a JWKS document, in bytes.
const maxJWKSSize = 1 << 20

// minRSABits is the smallest RSA modulus accepted in a JWKS.
const minRSABits = 2048

// jwk is one usable public key of a JWKS.
type jwk struct {
	kid string
	alg string // the key's "alg", "" when it does not restrict it
	key crypto.PublicKey
}

// keySet is a JWKS cached from a URL or file. It reloads when older than
// refresh, or when a token names a key it does not hold, but never more
// often than jwksRetry. A failed reload keeps the keys it had.
type keySet struct {
	source  string
	client  *http.Client
	refresh time.Duration

	mu        sync.Mutex // held during fetches, so concurrent callers wait for one
	keys      []jwk
	fetched   time.Time // of the last successful fetch; zero before it
	attempted time.Time // of the last fetch, successful or not
	err       error     // of the last fetch; nil after a success
}

// matching returns the keys that may have signed a token with kid and alg:
// those with that kid (all of them when kid is ""), whose own alg, if any,
// is alg. It reloads the set first when it is due.
func (s *keySet) matching(ctx context.Context, kid, alg string, now time.Time) ([]jwk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := s.find(kid, alg)
	stale := now.Sub(s.fetched) >= s.refresh // always true before the first fetch
	if (stale || len(found) == 0) && now.Sub(s.attempted) >= jwksRetry {
		s.attempted = now
		var keys []jwk
		if keys, s.err = s.load(ctx); s.err == nil {
			s.keys, s.fetched = keys, now
			found = s.find(kid, alg)
		}
	}
	if len(found) == 0 && s.err != nil {
		return nil, s.err
	}
	return found, nil
}

// find filters the cached keys; the caller holds mu.
func (s *keySet) find(kid, alg string) []jwk {
	var found []jwk
	for _, k := range s.keys {
		if (kid == "" || k.kid == kid) && (k.alg == "" || k.alg == alg) {
			found = append(found, k)
		}
	}
	return found
}

// load reads and decodes the JWKS.
func (s *keySet) load(ctx context.Context) ([]jwk, error) {
	data, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	return parseJWKS(data)
}

// read fetches the JWKS document from an http(s) URL or reads it from a
// file.
func (s *keySet) read(ctx context.Context) ([]byte, error) {
	var body io.Reader
	if u, err := url.Parse(s.source); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.source, nil)
		if err != nil {
			return nil, fmt.Errorf("auth: fetch jwks: %w", err)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("auth: fetch jwks: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("auth: fetch jwks: http status %d", resp.StatusCode)
		}
		body = resp.Body
	} else {
		f, err := os.Open(s.source)
		if err != nil {
			return nil, fmt.Errorf("auth: read jwks: %w", err)
		}
		defer f.Close()
		body = f
	}
	data, err := io.ReadAll(io.LimitReader(body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("auth: read jwks: %w", err)
	}
	if len(data) > maxJWKSSize {
		return nil, fmt.Errorf("auth: read jwks: larger than %d bytes", maxJWKSSize)
	}
	return data, nil
}

// parseJWKS decodes a JWK Set (RFC 7517), keeping the RSA and EC (P-256,
// P-384) signature keys. Keys of other types or uses, and malformed keys,
// are skipped so that one odd key does not disable the others; a set
// without any usable key is an error.
func parseJWKS(data []byte) ([]jwk, error) {
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			N   string `json:"n"`
			E   string `json:"e"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("auth: jwks is not valid JSON: %w", err)
	}
	var keys []jwk
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var key crypto.PublicKey
		var err error
		switch k.Kty {
		case "RSA":
			key, err = rsaKey(k.N, k.E)
		case "EC":
			key, err = ecKey(k.Crv, k.X, k.Y)
		default:
			continue
		}
		if err == nil {
			keys = append(keys, jwk{kid: k.Kid, alg: k.Alg, key: key})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: jwks has no usable signature key")
	}
	return keys, nil
}

// rsaKey decodes the members n and e of an RSA JWK.
func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err1 := decodeJWKNumber(n)
	eb, err2 := decodeJWKNumber(e)
	if err1 != nil || err2 != nil || len(eb) > 4 {
		return nil, errors.New("bad RSA key")
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	if key.N.BitLen() < minRSABits || key.E < 3 || key.E%2 == 0 {
		return nil, errors.New("weak RSA key")
	}
	return key, nil
}

// ecKey decodes the members crv, x and y of an EC JWK.
func ecKey(crv, x, y string) (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	default:
		return nil, errors.New("unsupported curve")
	}
	size := (curve.Params().BitSize + 7) / 8
	xb, err1 := decodeJWKNumber(x)
	yb, err2 := decodeJWKNumber(y)
	if err1 != nil || err2 != nil || len(xb) != size || len(yb) != size {
		return nil, errors.New("bad EC key")
	}
	return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, xb...), yb...))
}

// decodeJWKNumber decodes a base64url member of a JWK, tolerating the
// padding some providers add.
func decodeJWKNumber(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err == nil && len(b) == 0 {
		err = errors.New("empty")
	}
	return b, err
}
