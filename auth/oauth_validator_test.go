package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Test keys, generated once per run.
var (
	testRSAKey  = sync.OnceValue(func() *rsa.PrivateKey { return mustGenerate(rsa.GenerateKey(rand.Reader, 2048)) })
	testRSAKey2 = sync.OnceValue(func() *rsa.PrivateKey { return mustGenerate(rsa.GenerateKey(rand.Reader, 2048)) })
	testP256Key = sync.OnceValue(func() *ecdsa.PrivateKey { return mustGenerate(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	testP384Key = sync.OnceValue(func() *ecdsa.PrivateKey { return mustGenerate(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)) })
)

func mustGenerate[K any](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

// signJWT signs claims as a compact JWS with alg, the way an identity
// provider would. key is an *rsa.PrivateKey, *ecdsa.PrivateKey, or []byte
// for HS256; alg "none" leaves the signature empty.
func signJWT(t testing.TB, alg, kid string, key any, claims map[string]any) string {
	t.Helper()
	header := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signed := encodeSegment(h) + "." + encodeSegment(c)
	hashes := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	var sig []byte
	var err error
	if alg != "none" {
		hash := hashes[alg[2:]]
		d := hash.New()
		d.Write([]byte(signed))
		digest := d.Sum(nil)
		switch alg[:2] {
		case "RS":
			sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), hash, digest)
		case "PS":
			sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		case "ES":
			k := key.(*ecdsa.PrivateKey)
			var r, s *big.Int
			r, s, err = ecdsa.Sign(rand.Reader, k, digest)
			size := (k.Curve.Params().BitSize + 7) / 8
			sig = make([]byte, 2*size)
			r.FillBytes(sig[:size])
			s.FillBytes(sig[size:])
		case "HS":
			mac := hmac.New(sha256.New, key.([]byte))
			mac.Write([]byte(signed))
			sig = mac.Sum(nil)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + encodeSegment(sig)
}

// publicJWK describes a public key as a JWK.
func publicJWK(kid string, key crypto.PublicKey) map[string]string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig",
			"n": encodeSegment(k.N.Bytes()), "e": encodeSegment(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, _ := k.Bytes()
		size := (len(b) - 1) / 2
		return map[string]string{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name,
			"x": encodeSegment(b[1 : 1+size]), "y": encodeSegment(b[1+size:])}
	}
	panic("unknown key type")
}

func jwksJSON(keys ...map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// jwksServer serves a JWKS that tests can replace, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	doc     []byte
	status  int
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	s := &jwksServer{doc: doc, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.WriteHeader(s.status)
		w.Write(s.doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(doc []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc, s.status = doc, status
}

func mustValidator(t *testing.T, cfg OAuthConfig) *OAuthValidator {
	t.Helper()
	v, err := NewOAuthValidator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOAuthValidate(t *testing.T) {
	rsaKey, p256, p384 := testRSAKey(), testP256Key(), testP384Key()
	srv := newJWKSServer(t, jwksJSON(
		publicJWK("rsa", &rsaKey.PublicKey),
		publicJWK("p256", &p256.PublicKey),
		publicJWK("p384", &p384.PublicKey),
	))
	v := mustValidator(t, OAuthConfig{JWKSURL: srv.URL, Issuer: "https://idp", Audiences: []string{"kafka", "strait"}})

	exp := testNow.Add(time.Hour)
	claims := func(changes map[string]any) map[string]any {
		c := map[string]any{"iss": "https://idp", "aud": "kafka", "sub": "alice", "exp": exp.Unix(), "groups": []string{"eng", "ops"}}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	rsaPublicDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPublicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPublicDER})

	tests := []struct {
		name   string
		token  string
		groups []string
		err    string // "" means valid
	}{
		{"RS256", signJWT(t, "RS256", "rsa", rsaKey, claims(nil)), []string{"eng", "ops"}, ""},
		{"RS384", signJWT(t, "RS384", "rsa", rsaKey, claims(nil)), []string{"eng", "ops"}, ""},
		{"RS512", signJWT(t, "RS512", "rsa", rsaKey, claims(nil)), []string{"eng", "ops"}, ""},
		{"PS256", signJWT(t, "PS256", "rsa", rsaKey, claims(nil)), []string{"eng", "ops"}, ""},
		{"ES256", signJWT(t, "ES256", "p256", p256, claims(nil)), []string{"eng", "ops"}, ""},
		{"ES384", signJWT(t, "ES384", "p384", p384, claims(nil)), []string{"eng", "ops"}, ""},
		{"no kid", signJWT(t, "ES256", "", p256, claims(nil)), []string{"eng", "ops"}, ""},
		{"groups as a string", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"groups": "eng  ops"})), []string{"eng", "ops"}, ""},
		{"no groups", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"groups": nil})), nil, ""},
		{"second audience in a list", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"aud": []string{"other", "strait"}})), []string{"eng", "ops"}, ""},
		{"expired within leeway", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"exp": testNow.Add(-29 * time.Second).Unix()})), []string{"eng", "ops"}, ""},
		{"nbf within leeway", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"nbf": testNow.Add(29 * time.Second).Unix()})), []string{"eng", "ops"}, ""},

		{"expired", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"exp": testNow.Add(-30 * time.Second).Unix()})), nil, "token expired"},
		{"not yet valid", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"nbf": testNow.Add(31 * time.Second).Unix()})), nil, "not valid yet"},
		{"no exp", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"exp": nil})), nil, "missing exp"},
		{"exp a string", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"exp": "tomorrow"})), nil, `claim "exp" is not a number`},
		{"wrong issuer", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"iss": "https://evil"})), nil, "wrong issuer"},
		{"no issuer", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"iss": nil})), nil, "wrong issuer"},
		{"wrong audience", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"aud": []string{"web"}})), nil, "wrong audience"},
		{"no audience", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"aud": nil})), nil, "wrong audience"},
		{"no subject", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"sub": nil})), nil, `missing "sub" claim`},
		{"groups of numbers", signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"groups": []int{1}})), nil, "groups"},
		{"alg none", signJWT(t, "none", "rsa", nil, claims(nil)), nil, "unsupported token algorithm"},
		{"HS256 with the public key as secret", signJWT(t, "HS256", "rsa", rsaPublicPEM, claims(nil)), nil, "unsupported token algorithm"},
		{"HS256 with the modulus as secret", signJWT(t, "HS256", "rsa", rsaKey.N.Bytes(), claims(nil)), nil, "unsupported token algorithm"},
		{"ES256 under the RSA kid", signJWT(t, "ES256", "rsa", p256, claims(nil)), nil, "bad signature"},
		{"ES384 with the P-256 key", signJWT(t, "ES384", "p256", p384, claims(nil)), nil, "bad signature"},
		{"unknown kid", signJWT(t, "RS256", "nope", rsaKey, claims(nil)), nil, "unknown key"},
		{"other RSA key", signJWT(t, "RS256", "rsa", testRSAKey2(), claims(nil)), nil, "bad signature"},
		{"malformed", "not-a-jwt", nil, "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Validate(context.Background(), tt.token, testNow)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), "auth: ") {
					t.Errorf("err %q lacks the component prefix", err)
				}
				if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token[:20]) {
					t.Errorf("err %q quotes the token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Username != "alice" || p.Mechanism != "OAUTHBEARER" || p.VCluster != "" || p.TokenID != "" || !slices.Equal(p.Groups, tt.groups) {
				t.Fatalf("principal = %+v", p)
			}
		})
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("fetched the JWKS %d times, want once (unknown kids are throttled)", n)
	}
	p, err := v.Validate(context.Background(), signJWT(t, "RS256", "rsa", rsaKey, claims(nil)), testNow)
	if err != nil || !p.Expires.Equal(exp.Truncate(time.Second)) {
		t.Fatalf("Expires = %v, %v; want %v", p.Expires, err, exp)
	}
	_, err = v.Validate(context.Background(), signJWT(t, "RS256", "rsa", rsaKey, claims(map[string]any{"exp": testNow.Unix() - 60})), testNow)
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("expired token: err = %v, want ErrExpired", err)
	}
}

func TestOAuthClaimNames(t *testing.T) {
	key := testP256Key()
	srv := newJWKSServer(t, jwksJSON(publicJWK("k", &key.PublicKey)))
	v := mustValidator(t, OAuthConfig{JWKSURL: srv.URL, SubjectClaim: "preferred_username", GroupsClaim: "roles"})
	token := signJWT(t, "ES256", "k", key, map[string]any{
		"sub": "0f3c", "preferred_username": "alice", "roles": "admin dev", "groups": []string{"x"},
		"exp": float64(testNow.Unix()) + 0.5,
	})
	p, err := v.Validate(context.Background(), token, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "alice" || !slices.Equal(p.Groups, []string{"admin", "dev"}) {
		t.Fatalf("principal = %+v", p)
	}
	if want := testNow.Add(500 * time.Millisecond); !p.Expires.Equal(want) {
		t.Fatalf("Expires = %v, want %v", p.Expires, want)
	}
}

// TestOAuthKeyRotation rotates the provider's key: a token naming a key
// the cached JWKS lacks makes the validator fetch it again, but at most
// once every ten seconds.
func TestOAuthKeyRotation(t *testing.T) {
	oldKey, newKey := testRSAKey(), testP256Key()
	srv := newJWKSServer(t, jwksJSON(publicJWK("old", &oldKey.PublicKey)))
	v := mustValidator(t, OAuthConfig{JWKSURL: srv.URL})
	claims := map[string]any{"sub": "alice", "exp": testNow.Add(time.Hour).Unix()}
	oldToken := signJWT(t, "RS256", "old", oldKey, claims)
	newToken := signJWT(t, "ES256", "new", newKey, claims)
	ctx := context.Background()

	if _, err := v.Validate(ctx, oldToken, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, newToken, testNow.Add(5*time.Second)); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("before rotation: err = %v", err)
	}
	srv.set(jwksJSON(publicJWK("new", &newKey.PublicKey), publicJWK("old", &oldKey.PublicKey)), http.StatusOK)
	if _, err := v.Validate(ctx, newToken, testNow.Add(9*time.Second)); err == nil {
		t.Fatal("fetched again within ten seconds of the last fetch")
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches before the retry interval, want 1", n)
	}
	if _, err := v.Validate(ctx, newToken, testNow.Add(10*time.Second)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if _, err := v.Validate(ctx, oldToken, testNow.Add(11*time.Second)); err != nil {
		t.Fatalf("old key after rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}
