package auth

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Size limits of a SASL PLAIN message, in bytes.
const (
	maxPlainName     = 255      // authzid and username
	maxPlainPassword = 16 << 10 // password (or a gateway token in its place)
)

// ParsePlain decodes a SASL PLAIN message (RFC 4616): authzid NUL username
// NUL password. It is strict: exactly two NULs, a non-empty username and
// password, UTF-8 throughout, at most 255 bytes for authzid and username
// and 16 KiB for the password. Errors never include the password.
func ParsePlain(msg []byte) (authzid, username, password string, err error) {
	if len(msg) > 2*maxPlainName+maxPlainPassword+2 {
		return "", "", "", errors.New("auth: malformed PLAIN message: too long")
	}
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 {
		return "", "", "", errors.New("auth: malformed PLAIN message: want authzid, username and password separated by NUL")
	}
	for _, check := range []struct {
		field    string
		value    []byte
		max      int
		optional bool
	}{
		{"authzid", parts[0], maxPlainName, true},
		{"username", parts[1], maxPlainName, false},
		{"password", parts[2], maxPlainPassword, false},
	} {
		switch {
		case len(check.value) == 0 && !check.optional:
			return "", "", "", fmt.Errorf("auth: malformed PLAIN message: empty %s", check.field)
		case len(check.value) > check.max:
			return "", "", "", fmt.Errorf("auth: malformed PLAIN message: %s longer than %d bytes", check.field, check.max)
		case !utf8.Valid(check.value):
			return "", "", "", fmt.Errorf("auth: malformed PLAIN message: %s is not UTF-8", check.field)
		}
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), nil
}
