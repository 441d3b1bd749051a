package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// maxScramMessage bounds a client's SCRAM message, in bytes.
const maxScramMessage = 4096

// maxScramName bounds a SCRAM username once decoded, and a nonce, in bytes.
const maxScramName = 255

// clientFirst is a decoded client-first-message (RFC 5802 section 7).
type clientFirst struct {
	gs2Header string // "n,," or "y,," or with an authzid: what c= must echo
	bare      string // client-first-message-bare, part of the AuthMessage
	username  string // decoded
	nonce     string
}

// parseClientFirst decodes "n,[a=authzid],n=user,r=nonce[,ext=value...]".
// It accepts the gs2 flags "n" and "y" (the gateway offers no channel
// binding), an authzid only when it equals the username, as Kafka does,
// and extensions other than Kafka's tokenauth=true: the gateway has no
// delegation tokens.
func parseClientFirst(msg string) (clientFirst, error) {
	if len(msg) > maxScramMessage {
		return clientFirst{}, errors.New("too long")
	}
	if !utf8.ValidString(msg) {
		return clientFirst{}, errors.New("not UTF-8")
	}
	flag, rest, _ := strings.Cut(msg, ",")
	switch {
	case strings.HasPrefix(flag, "p="):
		return clientFirst{}, errors.New("channel binding is not supported")
	case flag != "n" && flag != "y":
		return clientFirst{}, errors.New("bad gs2 header")
	}
	authz, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return clientFirst{}, errors.New("bad gs2 header")
	}
	m := clientFirst{gs2Header: msg[:len(msg)-len(bare)], bare: bare}
	attrs := strings.Split(bare, ",")
	if strings.HasPrefix(attrs[0], "m=") {
		return clientFirst{}, errors.New("mandatory extensions are not supported")
	}
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return clientFirst{}, errors.New("want username and nonce")
	}
	m.username, ok = decodeSaslName(attrs[0][2:])
	if !ok || m.username == "" || len(m.username) > maxScramName {
		return clientFirst{}, errors.New("bad username")
	}
	m.nonce = attrs[1][2:]
	if !validNonce(m.nonce) {
		return clientFirst{}, errors.New("bad nonce")
	}
	if err := checkExtensions(attrs[2:]); err != nil {
		return clientFirst{}, err
	}
	if authz != "" {
		zid, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return clientFirst{}, errors.New("bad gs2 header")
		}
		if zid, ok = decodeSaslName(zid); !ok || zid != m.username {
			return clientFirst{}, errors.New("authorization id must equal the username")
		}
	}
	return m, nil
}

// clientFinal is a decoded client-final-message.
type clientFinal struct {
	channelBinding []byte // decoded c=
	nonce          string
	proof          []byte
	withoutProof   string // client-final-message-without-proof, part of the AuthMessage
}

// parseClientFinal decodes "c=biws,r=nonce[,ext=value...],p=proof".
func parseClientFinal(msg string) (clientFinal, error) {
	if len(msg) > maxScramMessage {
		return clientFinal{}, errors.New("too long")
	}
	attrs := strings.Split(msg, ",")
	last := attrs[len(attrs)-1]
	if len(attrs) < 3 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") || !strings.HasPrefix(last, "p=") {
		return clientFinal{}, errors.New("want channel binding, nonce and proof")
	}
	if err := checkExtensions(attrs[2 : len(attrs)-1]); err != nil {
		return clientFinal{}, err
	}
	var m clientFinal
	var err error
	if m.channelBinding, err = base64.StdEncoding.Strict().DecodeString(attrs[0][2:]); err != nil {
		return clientFinal{}, errors.New("channel binding is not base64")
	}
	if m.proof, err = base64.StdEncoding.Strict().DecodeString(last[2:]); err != nil {
		return clientFinal{}, errors.New("proof is not base64")
	}
	m.nonce = attrs[1][2:]
	m.withoutProof = msg[:len(msg)-len(last)-1]
	return m, nil
}

// checkExtensions checks optional attributes (name=value with a name of
// letters). Unknown ones are ignored as RFC 5802 says, but Kafka's
// tokenauth=true asks for delegation-token authentication, which the
// gateway does not have.
func checkExtensions(attrs []string) error {
	for _, attr := range attrs {
		name, value, ok := strings.Cut(attr, "=")
		if !ok || name == "" || strings.IndexFunc(name, notLetter) >= 0 {
			return errors.New("bad extension")
		}
		if name == "tokenauth" && strings.EqualFold(value, "true") {
			return errors.New("delegation tokens are not supported")
		}
	}
	return nil
}

// notLetter reports whether r is not an ASCII letter.
func notLetter(r rune) bool {
	return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z')
}

// decodeSaslName undoes SCRAM's escaping of names: "=2C" is ',' and "=3D"
// is '='; any other '=' is an error.
func decodeSaslName(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1 : min(i+3, len(s))] {
		case "2C":
			b.WriteByte(',')
		case "3D":
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// validNonce reports whether s is a nonce: printable ASCII except ','.
func validNonce(s string) bool {
	if s == "" || len(s) > maxScramName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}
