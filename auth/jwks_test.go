package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseJWKS(t *testing.T) {
	rsaJWK := publicJWK("r", &testRSAKey().PublicKey)
	p256JWK := publicJWK("e", &testP256Key().PublicKey)
	with := func(base map[string]string, changes ...string) map[string]string {
		c := map[string]string{}
		for k, v := range base {
			c[k] = v
		}
		for i := 0; i < len(changes); i += 2 {
			c[changes[i]] = changes[i+1]
		}
		return c
	}
	small := mustGenerate(rsa.GenerateKey(rand.Reader, 1024))

	tests := []struct {
		name string
		doc  string
		kids []string // of the usable keys; nil means an error
	}{
		{"rsa and ec", string(jwksJSON(rsaJWK, p256JWK)), []string{"r", "e"}},
		{"p-384", string(jwksJSON(publicJWK("p", &testP384Key().PublicKey))), []string{"p"}},
		{"padded members", string(jwksJSON(with(rsaJWK, "e", "AQAB=="))), []string{"r"}},
		{"alg kept", string(jwksJSON(with(rsaJWK, "alg", "PS256"))), []string{"r"}},
		{"encryption key skipped", string(jwksJSON(with(rsaJWK, "use", "enc"), p256JWK)), []string{"e"}},
		{"oct key skipped", string(jwksJSON(map[string]string{"kty": "oct", "k": "c2VjcmV0"}, p256JWK)), []string{"e"}},
		{"OKP key skipped", string(jwksJSON(map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, p256JWK)), []string{"e"}},
		{"P-521 skipped", string(jwksJSON(with(p256JWK, "crv", "P-521"), rsaJWK)), []string{"r"}},
		{"point off the curve skipped", string(jwksJSON(with(p256JWK, "y", p256JWK["x"]), rsaJWK)), []string{"r"}},
		{"short coordinate skipped", string(jwksJSON(with(p256JWK, "x", "AAAA"), rsaJWK)), []string{"r"}},
		{"1024-bit RSA skipped", string(jwksJSON(publicJWK("s", &small.PublicKey), p256JWK)), []string{"e"}},
		{"even exponent skipped", string(jwksJSON(with(rsaJWK, "e", "AAI"), p256JWK)), []string{"e"}},
		{"huge exponent skipped", string(jwksJSON(with(rsaJWK, "e", "AQAAAAAB"), p256JWK)), []string{"e"}},
		{"bad base64 skipped", string(jwksJSON(with(rsaJWK, "n", "!!"), p256JWK)), []string{"e"}},
		{"no usable key", string(jwksJSON(with(rsaJWK, "use", "enc"))), nil},
		{"empty set", `{"keys":[]}`, nil},
		{"not json", `<html>`, nil},
		{"keys not a list", `{"keys":{}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := parseJWKS([]byte(tt.doc))
			if tt.kids == nil {
				if err == nil {
					t.Fatalf("accepted, keys %v", keys)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range keys {
				kids = append(kids, k.kid)
			}
			if strings.Join(kids, ",") != strings.Join(tt.kids, ",") {
				t.Fatalf("kids = %v, want %v", kids, tt.kids)
			}
		})
	}
}

// TestJWKSKeyAlg checks that a key whose JWK names an algorithm is used for
// that algorithm only.
func TestJWKSKeyAlg(t *testing.T) {
	key := testRSAKey()
	jwk := publicJWK("k", &key.PublicKey)
	jwk["alg"] = "PS256"
	srv := newJWKSServer(t, jwksJSON(jwk))
	v := mustValidator(t, OAuthConfig{JWKSURL: srv.URL})
	claims := map[string]any{"sub": "alice", "exp": testNow.Add(time.Hour).Unix()}
	if _, err := v.Validate(context.Background(), signJWT(t, "PS256", "k", key, claims), testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), signJWT(t, "RS256", "k", key, claims), testNow); err == nil {
		t.Fatal("a PS256 key verified an RS256 token")
	}
}

// TestJWKSRefresh checks the periodic reload, and that a failed reload
// keeps the keys already known.
func TestJWKSRefresh(t *testing.T) {
	oldKey, newKey := testRSAKey(), testRSAKey2()
	srv := newJWKSServer(t, jwksJSON(publicJWK("k", &oldKey.PublicKey)))
	v := mustValidator(t, OAuthConfig{JWKSURL: srv.URL, Refresh: time.Minute})
	claims := map[string]any{"sub": "alice", "exp": testNow.Add(time.Hour).Unix()}
	oldToken := signJWT(t, "RS256", "k", oldKey, claims)
	newToken := signJWT(t, "RS256", "k", newKey, claims) // same kid, new key
	ctx := context.Background()

	steps := []struct {
		at      time.Duration
		serve   []byte // nil keeps the document
		status  int
		token   string
		ok      bool
		fetches int32
	}{
		{0, nil, http.StatusOK, oldToken, true, 1},
		{30 * time.Second, jwksJSON(publicJWK("k", &newKey.PublicKey)), http.StatusOK, oldToken, true, 1},
		{time.Minute, nil, http.StatusOK, newToken, true, 2},
		{time.Minute, nil, http.StatusOK, oldToken, false, 2},
		{3 * time.Minute, []byte("oops"), http.StatusInternalServerError, newToken, true, 3},
		{3*time.Minute + 5*time.Second, nil, http.StatusOK, newToken, true, 3},
		{3*time.Minute + 10*time.Second, nil, http.StatusOK, newToken, true, 4},
	}
	for i, s := range steps {
		if s.serve != nil {
			srv.set(s.serve, s.status)
		}
		_, err := v.Validate(ctx, s.token, testNow.Add(s.at))
		if (err == nil) != s.ok {
			t.Fatalf("step %d: err = %v, want ok %v", i, err, s.ok)
		}
		if n := srv.fetches.Load(); n != s.fetches {
			t.Fatalf("step %d: %d fetches, want %d", i, n, s.fetches)
		}
	}
}

func TestJWKSUnavailable(t *testing.T) {
	srv := newJWKSServer(t, []byte("down"))
	srv.set([]byte("down"), http.StatusServiceUnavailable)
	v := mustValidator(t, OAuthConfig{JWKSURL: srv.URL})
	token := signJWT(t, "ES256", "k", testP256Key(), map[string]any{"sub": "a", "exp": testNow.Add(time.Hour).Unix()})
	for _, at := range []time.Duration{0, time.Second} { // the second is throttled, same error
		if _, err := v.Validate(context.Background(), token, testNow.Add(at)); err == nil || !strings.Contains(err.Error(), "http status 503") {
			t.Fatalf("err = %v, want the fetch failure", err)
		}
	}
}

func TestJWKSFile(t *testing.T) {
	key := testP256Key()
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksJSON(publicJWK("k", &key.PublicKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	v := mustValidator(t, OAuthConfig{JWKSURL: path})
	token := signJWT(t, "ES256", "k", key, map[string]any{"sub": "a", "exp": testNow.Add(time.Hour).Unix()})
	if _, err := v.Validate(context.Background(), token, testNow); err != nil {
		t.Fatal(err)
	}
	missing := mustValidator(t, OAuthConfig{JWKSURL: filepath.Join(t.TempDir(), "none.json")})
	if _, err := missing.Validate(context.Background(), token, testNow); err == nil || !strings.Contains(err.Error(), "read jwks") {
		t.Fatalf("err = %v, want a read error", err)
	}
}

func TestJWKSTooLarge(t *testing.T) {
	srv := newJWKSServer(t, []byte(`{"keys":[`+strings.Repeat(" ", maxJWKSSize)+`]}`))
	v := mustValidator(t, OAuthConfig{JWKSURL: srv.URL})
	token := signJWT(t, "ES256", "k", testP256Key(), map[string]any{"sub": "a", "exp": testNow.Add(time.Hour).Unix()})
	if _, err := v.Validate(context.Background(), token, testNow); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want too large", err)
	}
}

func TestNewOAuthValidator(t *testing.T) {
	if _, err := NewOAuthValidator(OAuthConfig{}); err == nil {
		t.Fatal("accepted a config without JWKS URL")
	}
	if _, err := NewOAuthValidator(OAuthConfig{JWKSURL: "x", Refresh: -time.Second}); err == nil {
		t.Fatal("accepted a negative refresh")
	}
	v := mustValidator(t, OAuthConfig{JWKSURL: "x"})
	if v.cfg.SubjectClaim != "sub" || v.cfg.GroupsClaim != "groups" || v.cfg.Refresh != time.Hour || v.cfg.HTTPClient == nil {
		t.Fatalf("defaults = %+v", v.cfg)
	}
}

// FuzzParseJWKS checks that parseJWKS never panics and returns only keys
// of the supported kinds and strengths.
func FuzzParseJWKS(f *testing.F) {
	f.Add(jwksJSON(publicJWK("r", &testRSAKey().PublicKey), publicJWK("e", &testP256Key().PublicKey)))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := parseJWKS(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			switch key := k.key.(type) {
			case *rsa.PublicKey:
				if key.N.BitLen() < minRSABits || key.E < 3 {
					t.Fatalf("weak RSA key %d bits, e %d", key.N.BitLen(), key.E)
				}
			case *ecdsa.PublicKey:
				if key.Curve != elliptic.P256() && key.Curve != elliptic.P384() {
					t.Fatalf("EC key on %s", key.Curve.Params().Name)
				}
			default:
				t.Fatalf("key of type %T", key)
			}
		}
	})
}
