package azurekms

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Config is the azureKmsConfig of an encryption interceptor's kmsConfig.
// With neither credential set, the Azure default credential chain is used
// (environment, workload identity, managed identity, Azure CLI).
type Config struct {
	TokenCredential            *TokenCredential            `json:"tokenCredential" doc:"service principal with a client secret"`
	UsernamePasswordCredential *UsernamePasswordCredential `json:"usernamePasswordCredential" doc:"user name and password of a Microsoft Entra user (no multifactor authentication)"`
	Endpoint                   string                      `json:"endpoint" doc:"https URL used instead of https://<vault>.vault.azure.net for every key (private endpoints, tests)"`
}

// TokenCredential is a service principal that signs in with a client
// secret.
type TokenCredential struct {
	ClientID     string `json:"clientId" doc:"application (client) id"`
	TenantID     string `json:"tenantId" doc:"directory (tenant) id"`
	ClientSecret string `json:"clientSecret" doc:"client secret"`
}

// UsernamePasswordCredential is a user that signs in with a password.
type UsernamePasswordCredential struct {
	ClientID string `json:"clientId" doc:"application (client) id"`
	TenantID string `json:"tenantId" doc:"directory (tenant) id"`
	Username string `json:"username" doc:"user principal name"`
	Password string `json:"password" doc:"password"`
}

// Check validates the configuration without I/O. Errors name the field.
func (c *Config) Check() error {
	if c == nil {
		return nil
	}
	if c.TokenCredential != nil && c.UsernamePasswordCredential != nil {
		return errors.New("usernamePasswordCredential: cannot be set together with tokenCredential")
	}
	if t := c.TokenCredential; t != nil {
		if err := required("tokenCredential", "clientId", t.ClientID, "tenantId", t.TenantID, "clientSecret", t.ClientSecret); err != nil {
			return err
		}
	}
	if u := c.UsernamePasswordCredential; u != nil {
		if err := required("usernamePasswordCredential", "clientId", u.ClientID, "tenantId", u.TenantID, "username", u.Username, "password", u.Password); err != nil {
			return err
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return errors.New("endpoint: must be an https URL with a host and no path, e.g. https://myvault.privatelink.vaultcore.azure.net")
		}
	}
	return nil
}

// required checks that each named value (name, value, name, value...) of
// a section is set.
func required(section string, pairs ...string) error {
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("%s.%s: must be set", section, pairs[i])
		}
	}
	return nil
}

// keyID is a parsed key id.
type keyID struct {
	host    string // myvault.vault.azure.net
	name    string
	version string // empty: the key's current version
}

// vaultSuffixes are the DNS suffixes of Key Vault in the Azure clouds.
var vaultSuffixes = []string{".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net"}

// CheckKeyID checks a key id: <vault>.vault.azure.net/keys/<name> or
// <vault>.vault.azure.net/keys/<name>/<version> (other Azure clouds'
// vault domains are accepted too).
func CheckKeyID(id string) error {
	_, err := parseKeyID(id)
	return err
}

func parseKeyID(id string) (keyID, error) {
	parts := strings.Split(id, "/")
	if len(parts) < 3 || len(parts) > 4 || parts[1] != "keys" {
		return keyID{}, fmt.Errorf("azurekms: key id %q: want <vault>.vault.azure.net/keys/<name>[/<version>]", id)
	}
	k := keyID{host: parts[0], name: parts[2]}
	if len(parts) == 4 {
		k.version = parts[3]
		if !isName(k.version, 1, 64, false) {
			return keyID{}, fmt.Errorf("azurekms: key id %q: version must be letters and digits", id)
		}
	}
	vault := ""
	for _, s := range vaultSuffixes {
		if v, ok := strings.CutSuffix(k.host, s); ok {
			vault = v
		}
	}
	if !isName(vault, 3, 24, true) {
		return keyID{}, fmt.Errorf("azurekms: key id %q: want a vault host such as myvault.vault.azure.net", id)
	}
	if !isName(k.name, 1, 127, true) {
		return keyID{}, fmt.Errorf("azurekms: key id %q: key name must be 1 to 127 letters, digits or hyphens", id)
	}
	return k, nil
}

// isName reports whether s has min to max ASCII letters and digits (and
// hyphens if hyphen).
func isName(s string, min, max int, hyphen bool) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || hyphen && r == '-'
		if !ok {
			return false
		}
	}
	return true
}
