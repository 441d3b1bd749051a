package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"time"
)

// oauthLeeway is the clock skew allowed between the identity provider and
// the gateway when checking exp and nbf.
const oauthLeeway = 30 * time.Second

// OAuthConfig configures an OAuthValidator.
type OAuthConfig struct {
	// JWKSURL is where the provider's signing keys are: an http(s) URL or
	// a file path.
	JWKSURL string
	// Issuer is the required iss claim; "" leaves it unchecked.
	Issuer string
	// Audiences, when not empty, must include one of the token's aud
	// values.
	Audiences []string
	// SubjectClaim names the claim holding the username; default "sub".
	SubjectClaim string
	// GroupsClaim names the claim holding group names, as an array of
	// strings or one space-separated string; default "groups".
	GroupsClaim string
	// Refresh is how often the JWKS is fetched again; default one hour.
	Refresh time.Duration
	// HTTPClient fetches the JWKS; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

// OAuthValidator checks OAUTHBEARER tokens: JWTs signed by an identity
// provider with a key from its JWKS. It is safe for concurrent use.
type OAuthValidator struct {
	cfg  OAuthConfig
	keys *keySet
}

// NewOAuthValidator returns a validator for cfg. It fetches the JWKS
// lazily, on the first Validate.
func NewOAuthValidator(cfg OAuthConfig) (*OAuthValidator, error) {
	if cfg.JWKSURL == "" {
		return nil, errors.New("auth: oauth needs a JWKS URL")
	}
	if cfg.Refresh < 0 {
		return nil, errors.New("auth: oauth JWKS refresh interval is negative")
	}
	if cfg.SubjectClaim == "" {
		cfg.SubjectClaim = "sub"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = time.Hour
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	cfg.Audiences = slices.Clone(cfg.Audiences)
	return &OAuthValidator{
		cfg:  cfg,
		keys: &keySet{source: cfg.JWKSURL, client: cfg.HTTPClient, refresh: cfg.Refresh},
	}, nil
}

// oauthAlg is how one JWS algorithm verifies a signature over a digest.
type oauthAlg struct {
	hash   crypto.Hash
	verify func(key crypto.PublicKey, digest, sig []byte) bool
}

// oauthAlgs are the algorithms accepted for OAuth tokens: asymmetric only.
// "none" and the HMAC algorithms are absent on purpose: with them a client
// could sign a token itself, with no key or with the public key as secret.
var oauthAlgs = map[string]oauthAlg{
	"RS256": {crypto.SHA256, verifyPKCS1(crypto.SHA256)},
	"RS384": {crypto.SHA384, verifyPKCS1(crypto.SHA384)},
	"RS512": {crypto.SHA512, verifyPKCS1(crypto.SHA512)},
	"PS256": {crypto.SHA256, verifyPSS(crypto.SHA256)},
	"PS384": {crypto.SHA384, verifyPSS(crypto.SHA384)},
	"PS512": {crypto.SHA512, verifyPSS(crypto.SHA512)},
	"ES256": {crypto.SHA256, verifyECDSA(elliptic.P256())},
	"ES384": {crypto.SHA384, verifyECDSA(elliptic.P384())},
}

// Validate checks a token at now: the algorithm, the signature with the
// JWKS key its kid names, exp (required) and nbf with 30 s of leeway, iss
// and aud as configured. It returns the principal the token names. An
// expired token's error wraps ErrExpired. Errors never quote the token.
func (v *OAuthValidator) Validate(ctx context.Context, token string, now time.Time) (Principal, error) {
	t, err := parseJWS(token)
	if err != nil {
		return Principal{}, err
	}
	alg, ok := oauthAlgs[t.alg]
	if !ok {
		return Principal{}, errors.New("auth: unsupported token algorithm")
	}
	keys, err := v.keys.matching(ctx, t.kid, t.alg, now)
	if err != nil {
		return Principal{}, err
	}
	if len(keys) == 0 {
		return Principal{}, errors.New("auth: token signed with an unknown key")
	}
	h := alg.hash.New()
	h.Write(t.signed)
	digest := h.Sum(nil)
	if !slices.ContainsFunc(keys, func(k jwk) bool { return alg.verify(k.key, digest, t.sig) }) {
		return Principal{}, errors.New("auth: bad signature")
	}
	claims, err := decodeClaimSet(t.payload)
	if err != nil {
		return Principal{}, malformed("claims are not a JSON object")
	}
	p, err := v.principal(claims, now)
	switch {
	case errors.Is(err, ErrExpired):
		return Principal{}, err
	case err != nil:
		return Principal{}, fmt.Errorf("auth: invalid token: %w", err)
	}
	return p, nil
}

// principal checks the verified claims and reads the principal from them.
func (v *OAuthValidator) principal(c claimSet, now time.Time) (Principal, error) {
	exp, ok, err := c.date("exp")
	if err != nil {
		return Principal{}, err
	}
	if !ok {
		return Principal{}, errors.New("missing exp")
	}
	if !now.Before(exp.Add(oauthLeeway)) {
		return Principal{}, fmt.Errorf("%w at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	nbf, ok, err := c.date("nbf")
	if err != nil {
		return Principal{}, err
	}
	if ok && now.Add(oauthLeeway).Before(nbf) {
		return Principal{}, errors.New("not valid yet")
	}
	if v.cfg.Issuer != "" {
		if iss, _, err := c.str("iss"); err != nil || iss != v.cfg.Issuer {
			return Principal{}, errors.New("wrong issuer")
		}
	}
	if len(v.cfg.Audiences) > 0 {
		aud, err := c.stringList("aud", false)
		if err != nil || !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(v.cfg.Audiences, a) }) {
			return Principal{}, errors.New("wrong audience")
		}
	}
	sub, _, err := c.str(v.cfg.SubjectClaim)
	if err != nil {
		return Principal{}, err
	}
	if sub == "" {
		return Principal{}, fmt.Errorf("missing %q claim", v.cfg.SubjectClaim)
	}
	groups, err := c.stringList(v.cfg.GroupsClaim, true)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Username: sub, Groups: groups, Mechanism: "OAUTHBEARER", Expires: exp}, nil
}

// verifyPKCS1 verifies RSASSA-PKCS1-v1_5 signatures (RS256...).
func verifyPKCS1(h crypto.Hash) func(crypto.PublicKey, []byte, []byte) bool {
	return func(key crypto.PublicKey, digest, sig []byte) bool {
		pub, ok := key.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
	}
}

// verifyPSS verifies RSASSA-PSS signatures (PS256...). RFC 7518 has the salt
// as long as the hash; like common JWT libraries this accepts any length,
// which is no less safe and admits signers that use another.
func verifyPSS(h crypto.Hash) func(crypto.PublicKey, []byte, []byte) bool {
	return func(key crypto.PublicKey, digest, sig []byte) bool {
		pub, ok := key.(*rsa.PublicKey)
		return ok && rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	}
}

// verifyECDSA verifies ECDSA signatures on curve, which JWS encodes as r
// and s side by side, each as long as the curve's field.
func verifyECDSA(curve elliptic.Curve) func(crypto.PublicKey, []byte, []byte) bool {
	size := (curve.Params().BitSize + 7) / 8
	return func(key crypto.PublicKey, digest, sig []byte) bool {
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != curve || len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, s)
	}
}
