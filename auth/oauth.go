package auth

import (
	"errors"
	"fmt"
	"strings"
)

// maxOAuthMessage bounds an OAUTHBEARER client message, in bytes.
const maxOAuthMessage = maxTokenLen + 4096

// ParseOAuthBearer decodes an OAUTHBEARER client message (RFC 7628 as
// Kafka sends it): a GS2 header "n,," or "n,a=authzid,", then
// \x01-separated key=value pairs ending with \x01\x01. The pair
// "auth=Bearer <token>" is required; the others are returned as extensions
// (nil when there are none). The authzid is checked for form and otherwise
// ignored: the principal always comes from the token. Errors never quote
// the token.
func ParseOAuthBearer(msg []byte) (token string, extensions map[string]string, err error) {
	if len(msg) > maxOAuthMessage {
		return "", nil, errors.New("auth: malformed OAUTHBEARER message: too long")
	}
	header, pairs, ok := strings.Cut(string(msg), "\x01")
	if !ok || !validOAuthHeader(header) {
		return "", nil, errors.New("auth: malformed OAUTHBEARER message: bad gs2 header")
	}
	pairs, ok = strings.CutSuffix(pairs, "\x01\x01")
	if !ok {
		return "", nil, errors.New("auth: malformed OAUTHBEARER message: want key=value pairs ending with \\x01\\x01")
	}
	found := false
	for _, pair := range strings.Split(pairs, "\x01") {
		key, value, ok := strings.Cut(pair, "=")
		_, repeated := extensions[key]
		switch {
		case !ok || key == "" || strings.IndexFunc(key, notLetter) >= 0:
			return "", nil, errors.New("auth: malformed OAUTHBEARER message: bad key")
		case strings.IndexFunc(value, notOAuthValueChar) >= 0:
			return "", nil, fmt.Errorf("auth: malformed OAUTHBEARER message: bad value for %q", key)
		case repeated || key == "auth" && found:
			return "", nil, fmt.Errorf("auth: malformed OAUTHBEARER message: repeated %q", key)
		case key == "auth":
			if token, ok = bearerToken(value); !ok {
				return "", nil, errors.New("auth: malformed OAUTHBEARER message: auth is not \"Bearer <token>\"")
			}
			found = true
		default:
			if extensions == nil {
				extensions = map[string]string{}
			}
			extensions[key] = value
		}
	}
	if !found {
		return "", nil, errors.New("auth: malformed OAUTHBEARER message: no auth")
	}
	return token, extensions, nil
}

// OAuthFailure returns the server challenge Kafka sends when an OAUTHBEARER
// token is refused. The client answers it with a single \x01, after which
// the server reports the failure.
func OAuthFailure() []byte {
	return []byte(`{"status":"invalid_token"}`)
}

// validOAuthHeader reports whether h is a GS2 header without channel
// binding: "n,," or "n,a=authzid," (the final comma is the caller's cut).
func validOAuthHeader(h string) bool {
	rest, ok := strings.CutPrefix(h, "n,")
	if !ok {
		return false
	}
	authz, ok := strings.CutSuffix(rest, ",")
	switch {
	case !ok:
		return false
	case authz == "":
		return true
	}
	zid, ok := strings.CutPrefix(authz, "a=")
	if !ok || zid == "" || strings.Contains(zid, ",") {
		return false
	}
	_, ok = decodeSaslName(zid)
	return ok
}

// notOAuthValueChar reports whether r may not appear in a value
// (RFC 7628: VCHAR, space, tab, CR and LF).
func notOAuthValueChar(r rune) bool {
	return (r < 0x21 || r > 0x7e) && r != ' ' && r != '\t' && r != '\r' && r != '\n'
}

// bearerToken reads "Bearer <token>" (the scheme in any case, RFC 6750):
// the token is a b64token, letters, digits and "-._~+/", then any '='.
func bearerToken(value string) (string, bool) {
	scheme, token, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	body := strings.TrimRight(token, "=")
	if body == "" || strings.IndexFunc(body, notB64TokenChar) >= 0 {
		return "", false
	}
	return token, true
}

// notB64TokenChar reports whether r may not appear in a b64token before
// its '=' padding.
func notB64TokenChar(r rune) bool {
	return notLetter(r) && (r < '0' || r > '9') && !strings.ContainsRune("-._~+/", r)
}
