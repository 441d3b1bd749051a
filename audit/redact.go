package audit

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Redacted replaces every secret in a redacted document.
const Redacted = "[REDACTED]"

// secretSuffixes end the names of fields that hold secrets, compared in
// lower case with everything but letters and digits removed: password,
// clientSecret, basic.auth.user.info, sasl.jaas.config, secretAccessKey...
// Identifiers of secrets (keySecretId, tokenId) end otherwise and stay.
var secretSuffixes = []string{
	"password", "passwd", "passphrase", "secret", "token", "userinfo",
	"jaasconfig", "credential", "credentials", "privatekey", "secretkey",
	"accesskey", "masterkey", "keymaterial", "apisecret",
}

// IsSecret reports whether a field of this name holds a secret.
func IsSecret(name string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	n := b.String()
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// Redact returns a JSON document with the value of every field whose name
// IsSecret replaced by Redacted, at any depth. A document that is not
// JSON gives nil: nothing of it is recorded.
func Redact(doc []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redact(v)); err != nil {
		return nil
	}
	return bytes.TrimRight(out.Bytes(), "\n")
}

func redact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if IsSecret(k) && x != nil {
				v[k] = Redacted
			} else {
				v[k] = redact(x)
			}
		}
	case []any:
		for i, x := range v {
			v[i] = redact(x)
		}
	}
	return v
}
