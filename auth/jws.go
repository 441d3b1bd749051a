package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// maxTokenLen bounds the tokens this package decodes. Identity providers
// put group lists in their tokens, so it is generous.
const maxTokenLen = 64 << 10

// maxNumericDate is the last second of year 9999, the largest time claim
// accepted; larger values are nonsense and would overflow time.Time maths.
const maxNumericDate = 253402300799

// jws is a compact JWS (a signed JWT) taken apart. Nothing in it may be
// trusted before the signature over signed has been verified.
type jws struct {
	alg     string
	kid     string
	signed  []byte // "header.payload" as sent: what the signature covers
	payload []byte // the claims, decoded from base64url
	sig     []byte
}

// malformed returns the error for a token that cannot be decoded. The
// reason must never quote the token.
func malformed(reason string) error {
	return fmt.Errorf("auth: malformed token: %s", reason)
}

// parseJWS splits a compact JWS into its parts and decodes them. It checks
// the form only: the caller verifies the algorithm and signature.
func parseJWS(token string) (jws, error) {
	if len(token) > maxTokenLen {
		return jws{}, malformed("too long")
	}
	header, rest, ok1 := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return jws{}, malformed("want three dot-separated parts")
	}
	var t jws
	var err error
	if t.payload, err = decodeSegment(payload); err != nil {
		return jws{}, malformed("payload is not base64url")
	}
	if t.sig, err = decodeSegment(sig); err != nil {
		return jws{}, malformed("signature is not base64url")
	}
	h, err := decodeSegment(header)
	if err != nil {
		return jws{}, malformed("header is not base64url")
	}
	fields, err := decodeClaimSet(h)
	if err != nil {
		return jws{}, malformed("header is not a JSON object")
	}
	if _, ok := fields["crit"]; ok {
		return jws{}, malformed("critical header extensions are not supported")
	}
	if t.alg, _, err = fields.str("alg"); err != nil {
		return jws{}, malformed("alg is not a string")
	}
	if t.kid, _, err = fields.str("kid"); err != nil {
		return jws{}, malformed("kid is not a string")
	}
	t.signed = []byte(token[:len(header)+1+len(payload)])
	return t, nil
}

// decodeSegment decodes one part of a compact JWS: base64url without
// padding, canonical so that each token has exactly one spelling.
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// encodeSegment is the inverse of decodeSegment.
func encodeSegment(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// claimSet is a decoded JSON object (a JWT header or claims), read by exact
// member name.
type claimSet map[string]json.RawMessage

// decodeClaimSet decodes a JSON object.
func decodeClaimSet(data []byte) (claimSet, error) {
	var c claimSet
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("not an object")
	}
	return c, nil
}

// present reports whether the member exists and is not null.
func (c claimSet) present(name string) bool {
	raw, ok := c[name]
	return ok && string(raw) != "null"
}

// str returns a string member; ok is false when it is absent or null.
func (c claimSet) str(name string) (s string, ok bool, err error) {
	if !c.present(name) {
		return "", false, nil
	}
	if err := json.Unmarshal(c[name], &s); err != nil {
		return "", false, fmt.Errorf("claim %q is not a string", name)
	}
	return s, true, nil
}

// date returns a NumericDate member (seconds since the epoch, possibly
// fractional); ok is false when it is absent or null.
func (c claimSet) date(name string) (t time.Time, ok bool, err error) {
	if !c.present(name) {
		return time.Time{}, false, nil
	}
	var f float64
	if err := json.Unmarshal(c[name], &f); err != nil {
		return time.Time{}, false, fmt.Errorf("claim %q is not a number", name)
	}
	if f < 0 || f > maxNumericDate {
		return time.Time{}, false, fmt.Errorf("claim %q is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// stringList returns a member that is either one string or an array of
// strings; split says whether a single string holds space-separated
// values (an OAuth scope-style list) or is one value (an aud claim).
func (c claimSet) stringList(name string, split bool) ([]string, error) {
	if !c.present(name) {
		return nil, nil
	}
	var one string
	if json.Unmarshal(c[name], &one) == nil {
		if split {
			return strings.Fields(one), nil
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(c[name], &many); err != nil {
		return nil, fmt.Errorf("claim %q is neither a string nor an array of strings", name)
	}
	return many, nil
}
