package azurekms

import (
	"strings"
	"testing"
)

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		c    *Config
		want string // error substring; empty: valid
	}{
		{"nil", nil, ""},
		{"default credential", &Config{}, ""},
		{"token", &Config{TokenCredential: &TokenCredential{ClientID: "c", TenantID: "t", ClientSecret: "s"}}, ""},
		{"token without secret", &Config{TokenCredential: &TokenCredential{ClientID: "c", TenantID: "t"}}, "tokenCredential.clientSecret"},
		{"token without client", &Config{TokenCredential: &TokenCredential{TenantID: "t", ClientSecret: "s"}}, "tokenCredential.clientId"},
		{"password", &Config{UsernamePasswordCredential: &UsernamePasswordCredential{ClientID: "c", TenantID: "t", Username: "u", Password: "p"}}, ""},
		{"password without tenant", &Config{UsernamePasswordCredential: &UsernamePasswordCredential{ClientID: "c", Username: "u", Password: "p"}}, "usernamePasswordCredential.tenantId"},
		{"both", &Config{TokenCredential: &TokenCredential{}, UsernamePasswordCredential: &UsernamePasswordCredential{}}, "cannot be set together"},
		{"endpoint", &Config{Endpoint: "https://127.0.0.1:8443"}, ""},
		{"endpoint http", &Config{Endpoint: "http://127.0.0.1:8443"}, "endpoint"},
		{"endpoint path", &Config{Endpoint: "https://h/keys"}, "endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Check()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Check() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	c := &Config{UsernamePasswordCredential: &UsernamePasswordCredential{ClientID: "c", Username: "u", Password: "hunter2"}}
	if err := c.Check(); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Check() = %v", err)
	}
}

func TestCheckKeyID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"myvault.vault.azure.net/keys/kek", true},
		{"myvault.vault.azure.net/keys/kek/0123abcd", true},
		{"my-vault.vault.azure.cn/keys/my-kek", true},
		{"myvault.vault.azure.net/keys/kek/", false},
		{"myvault.vault.azure.net/keys/", false},
		{"myvault.vault.azure.net/secrets/kek", false},
		{"myvault.example.com/keys/kek", false},
		{"ab.vault.azure.net/keys/kek", false},
		{"myvault.vault.azure.net/keys/k_k", false},
		{"myvault.vault.azure.net/keys/kek/v1/extra", false},
		{"myvault.vault.azure.net/keys/kek/v-1", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := CheckKeyID(tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckKeyID(%q) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
}

func TestNewNoIO(t *testing.T) {
	for _, c := range []*Config{
		nil,
		{TokenCredential: &TokenCredential{ClientID: "c", TenantID: "t", ClientSecret: "s"}},
		{UsernamePasswordCredential: &UsernamePasswordCredential{ClientID: "c", TenantID: "t", Username: "u", Password: "p"}},
	} {
		if _, err := New(c); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzParseKeyID(f *testing.F) {
	f.Add("myvault.vault.azure.net/keys/kek/0123abcd")
	f.Add("myvault.vault.azure.net/keys/kek")
	f.Fuzz(func(t *testing.T, id string) {
		k, err := parseKeyID(id)
		if err != nil {
			return
		}
		back := k.host + "/keys/" + k.name
		if k.version != "" {
			back += "/" + k.version
		}
		if back != id {
			t.Fatalf("parsed %q as %+v", id, k)
		}
	})
}
