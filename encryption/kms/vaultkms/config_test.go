package vaultkms

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		env  map[string]string
		err  string // "" for valid; else a part of the error
	}{
		{"token", Config{Token: "t"}, nil, ""},
		{"token from env", Config{}, map[string]string{"VAULT_TOKEN": "t"}, ""},
		{"no token", Config{}, nil, "token: required"},
		{"http uri", Config{URI: "http://127.0.0.1:8200", Token: "t"}, nil, ""},
		{"https uri with path", Config{URI: "https://vault.example.com/proxy/", Token: "t"}, nil, ""},
		{"uri from env", Config{Token: "t"}, map[string]string{"VAULT_URI": "ftp://x"}, "uri: "},
		{"uri scheme", Config{URI: "vault:8200", Token: "t"}, nil, "uri: "},
		{"uri no host", Config{URI: "https://", Token: "t"}, nil, "uri: "},
		{"uri query", Config{URI: "https://v/?a=1", Token: "t"}, nil, "uri: "},
		{"uri user", Config{URI: "https://u:p@v", Token: "t"}, nil, "uri: "},
		{"lower-case type", Config{Type: "token", Token: "t"}, nil, ""},
		{"app role", Config{Type: "APP_ROLE", RoleID: "r", SecretID: "s"}, nil, ""},
		{"app role nested path", Config{Type: "APP_ROLE", RoleID: "r", SecretID: "s", Path: "team/approle"}, nil, ""},
		{"app role from env", Config{}, map[string]string{"VAULT_AUTH_TYPE": "APP_ROLE", "VAULT_APP_ROLE_ID": "r", "VAULT_APP_ROLE_SECRET_ID": "s"}, ""},
		{"app role no role", Config{Type: "APP_ROLE", SecretID: "s"}, nil, "roleId: required"},
		{"app role no secret", Config{Type: "APP_ROLE", RoleID: "r"}, nil, "secretId: required"},
		{"app role bad path", Config{Type: "APP_ROLE", RoleID: "r", SecretID: "s", Path: "a b"}, nil, "path: "},
		{"ldap", Config{Type: "LDAP"}, nil, "type: LDAP is not supported yet"},
		{"kubernetes", Config{Type: "KUBERNETES"}, nil, "type: KUBERNETES is not supported yet"},
		{"unknown type", Config{Type: "MAGIC"}, nil, "type: unknown type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []string{"VAULT_URI", "VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_AUTH_TYPE", "VAULT_APP_ROLE_ID", "VAULT_APP_ROLE_SECRET_ID", "VAULT_APP_ROLE_PATH"} {
				t.Setenv(v, tc.env[v])
			}
			err := tc.cfg.Check()
			if tc.err == "" && err != nil {
				t.Fatalf("Check() = %v, want nil", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("Check() = %v, want an error with %q", err, tc.err)
			}
			if _, nerr := New(&tc.cfg); (nerr == nil) != (err == nil) {
				t.Fatalf("New() = %v, Check() = %v: they disagree", nerr, err)
			}
		})
	}
}

func TestParseKeyID(t *testing.T) {
	for _, tc := range []struct {
		id                string
		host, mount, name string // host "" for invalid
	}{
		{"vault:8200/transit/keys/orders", "vault:8200", "transit", "orders"},
		{"vault/transit/keys/orders", "vault", "transit", "orders"},
		{"127.0.0.1:8200/team/a/transit/keys/k.v1_x-y", "127.0.0.1:8200", "team/a/transit", "k.v1_x-y"},
		{"[::1]:8200/transit/keys/k", "[::1]:8200", "transit", "k"},
		{"vault:8200/keys/keys/k", "vault:8200", "keys", "k"},
		{"vault:8200/transit/keys/a/keys/k", "vault:8200", "transit/keys/a", "k"},
		{"", "", "", ""},
		{"vault:8200", "", "", ""},
		{"vault:8200/", "", "", ""},
		{"vault:8200/transit/orders", "", "", ""},
		{"vault:8200/keys/orders", "", "", ""},
		{"vault:8200/transit/keys/", "", "", ""},
		{"vault:8200/transit/keys/a/b", "", "", ""},
		{"vault:8200/transit/keys/a b", "", "", ""},
		{"vault:8200/transit/keys/..", "", "", ""},
		{"vault:8200/../keys/k", "", "", ""},
		{"vault:8200//transit/keys/k", "", "", ""},
		{"vault:0/transit/keys/k", "", "", ""},
		{"vault:65536/transit/keys/k", "", "", ""},
		{"vault:08200/transit/keys/k", "", "", ""},
		{"vault:/transit/keys/k", "", "", ""},
		{"/transit/keys/k", "", "", ""},
		{"user@vault/transit/keys/k", "", "", ""},
		{"vault:8200/transit/keys/k?x=1", "", "", ""},
	} {
		k, err := parseKeyID(tc.id)
		if tc.host == "" {
			if err == nil {
				t.Errorf("parseKeyID(%q) = %+v, want an error", tc.id, k)
			}
			continue
		}
		if err != nil || k != (keyID{tc.host, tc.mount, tc.name}) {
			t.Errorf("parseKeyID(%q) = %+v, %v; want %s %s %s", tc.id, k, err, tc.host, tc.mount, tc.name)
		}
	}
}

func TestCheckKeyIDTemplates(t *testing.T) {
	for id, ok := range map[string]bool{
		"vault:8200/transit/keys/{{record.topic}}":        true,
		"vault:8200/transit/keys/orders-{{record.key}}":   true,
		"vault:8200/{{record.header.tenant}}/keys/k":      true,
		"vault:8200/transit/keys/{{record.value.a[0].b}}": true,
		"vault:8200/transit/keys/{{record.topic}}/x":      false,
		"vault:8200/transit/keys/{{record.topic":          false,
		"{{record.topic}}/transit/keys/k":                 true,
		"vault:8200/transit/{{record.topic}}":             false,
	} {
		if err := CheckKeyID(id); (err == nil) != ok {
			t.Errorf("CheckKeyID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}

func FuzzCheckKeyID(f *testing.F) {
	f.Add("vault:8200/transit/keys/orders")
	f.Add("[::1]:1/a/b/keys/{{record.topic}}")
	f.Fuzz(func(t *testing.T, id string) {
		k, err := parseKeyID(id)
		if err != nil {
			return
		}
		if got := k.host + "/" + k.mount + "/keys/" + k.name; got != id {
			t.Fatalf("parseKeyID(%q) = %+v, which does not rebuild the id (%q)", id, k, got)
		}
		if CheckKeyID(id) != nil && !strings.Contains(id, "{{") {
			t.Fatalf("CheckKeyID(%q) fails but parseKeyID accepts it", id)
		}
	})
}

func FuzzDecodeErrors(f *testing.F) {
	f.Add([]byte(`{"errors":["permission denied"]}`))
	f.Add([]byte(`{"errors":null}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs := redact(decodeErrors(body), "secret")
		for _, m := range msgs {
			if strings.Contains(m, "secret") {
				t.Fatalf("redact left the secret in %q", m)
			}
		}
	})
}
