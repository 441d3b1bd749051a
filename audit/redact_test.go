package audit

import (
	"encoding/json"
	"testing"
)

func TestIsSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "Password": true, "basic.auth.user.info": true, "sasl.jaas.config": true,
		"clientSecret": true, "secret_access_key": true, "token": true, "accessToken": true,
		"credentials": true, "privateKey": true, "masterKey": true,
		"keySecretId": false, "tokenId": false, "apiKeys": false, "username": false, "topic": false,
		"secretName": false, "passwordPolicy": false, "": false,
	} {
		if got := IsSecret(name); got != want {
			t.Errorf("IsSecret(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"flat", `{"username":"u","password":"hunter2"}`, `{"password":"[REDACTED]","username":"u"}`},
		{"nested map key", `{"spec":{"config":{"additionalConfigs":{"basic.auth.user.info":"u:hunter2","schema.registry.url":"http://r"}}}}`,
			`{"spec":{"config":{"additionalConfigs":{"basic.auth.user.info":"[REDACTED]","schema.registry.url":"http://r"}}}}`},
		{"object value", `{"credentials":{"user":"u","pass":"p"}}`, `{"credentials":"[REDACTED]"}`},
		{"in arrays", `[{"token":"t1"},{"token":"t2","id":"i"}]`, `[{"token":"[REDACTED]"},{"id":"i","token":"[REDACTED]"}]`},
		{"null stays null", `{"password":null}`, `{"password":null}`},
		{"numbers kept exactly", `{"n":12345678901234567890,"f":1.50}`, `{"f":1.50,"n":12345678901234567890}`},
		{"html kept", `{"regex":"<a&b>"}`, `{"regex":"<a&b>"}`},
		{"not json", `{"password":"hunter2"`, ``},
		{"trailing data", `{} {"password":"hunter2"}`, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Redact([]byte(tc.in))); got != tc.want {
				t.Fatalf("Redact(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzRedact checks that redaction never fails, always yields JSON, and
// leaves no value of a secret field.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{`{"password":"hunter2"}`, `[{"a":{"token":"x"}}]`, `"s"`, `{"a":[1,2,{"secret":[1]}]}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := Redact(doc)
		if out == nil {
			return
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("Redact gave invalid JSON %s: %v", out, err)
		}
		var check func(any)
		check = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if IsSecret(k) && x != nil && x != Redacted {
						t.Fatalf("secret field %q kept: %v", k, x)
					}
					check(x)
				}
			case []any:
				for _, x := range v {
					check(x)
				}
			}
		}
		check(v)
	})
}
