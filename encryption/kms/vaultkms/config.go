// Package vaultkms is the HashiCorp Vault Transit KMS: it wraps data keys
// with a Transit key's encrypt endpoint and unwraps them with its decrypt
// endpoint, over a small JSON-over-HTTP client of its own. Key ids have
// the form <host:port>/<mount path>/keys/<name>.
package vaultkms

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Authentication types of kmsConfig.vault.type.
const (
	TypeToken   = "TOKEN"
	TypeAppRole = "APP_ROLE"
)

// unsupportedTypes are Vault login methods the config format names but
// this package does not implement yet.
var unsupportedTypes = []string{"USERNAME_PASSWORD", "GITHUB", "LDAP", "KUBERNETES", "GCP", "AWS_EC2_PKCS7", "AWS_EC2", "AWS_IAM", "JWT"}

// Config is kmsConfig.vault. An empty field is read from its environment
// variable (VAULT_URI, VAULT_TOKEN, ...) when that is set.
type Config struct {
	URI       string `json:"uri" doc:"base URL of Vault, http:// or https:// (env VAULT_URI; default: https:// and the host:port of the keySecretId)"`
	Token     string `json:"token" doc:"Vault token for type TOKEN (env VAULT_TOKEN)"`
	Namespace string `json:"namespace" doc:"Vault Enterprise namespace sent as X-Vault-Namespace (env VAULT_NAMESPACE)"`
	Type      string `json:"type" doc:"how to authenticate: TOKEN (default) or APP_ROLE (env VAULT_AUTH_TYPE)"`
	RoleID    string `json:"roleId" doc:"AppRole role id for type APP_ROLE (env VAULT_APP_ROLE_ID)"`
	SecretID  string `json:"secretId" doc:"AppRole secret id for type APP_ROLE (env VAULT_APP_ROLE_SECRET_ID)"`
	Path      string `json:"path" doc:"mount path of the AppRole auth method (env VAULT_APP_ROLE_PATH; default approle)"`
}

// withEnv returns the config with empty fields taken from the environment
// and defaults applied.
func (c *Config) withEnv() Config {
	var r Config
	if c != nil {
		r = *c
	}
	for _, f := range []struct {
		v   *string
		env string
	}{
		{&r.URI, "VAULT_URI"}, {&r.Token, "VAULT_TOKEN"}, {&r.Namespace, "VAULT_NAMESPACE"},
		{&r.Type, "VAULT_AUTH_TYPE"}, {&r.RoleID, "VAULT_APP_ROLE_ID"},
		{&r.SecretID, "VAULT_APP_ROLE_SECRET_ID"}, {&r.Path, "VAULT_APP_ROLE_PATH"},
	} {
		if *f.v == "" {
			*f.v = os.Getenv(f.env)
		}
	}
	r.Type = strings.ToUpper(r.Type)
	if r.Type == "" {
		r.Type = TypeToken
	}
	if r.Path == "" {
		r.Path = "approle"
	}
	r.Path = strings.Trim(r.Path, "/")
	r.URI = strings.TrimRight(r.URI, "/")
	return r
}

// Check validates the config at apply time, without I/O. Errors start
// with the name of the field at fault ("token: ...").
func (c *Config) Check() error {
	r := c.withEnv()
	if r.URI != "" {
		u, err := url.Parse(r.URI)
		switch {
		case err != nil:
			return fmt.Errorf("uri: %q is not a URL", r.URI)
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("uri: %q must start with http:// or https://", r.URI)
		case u.Host == "":
			return fmt.Errorf("uri: %q names no host", r.URI)
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			return fmt.Errorf("uri: %q must not have user info, a query or a fragment", r.URI)
		}
	}
	switch r.Type {
	case TypeToken:
		if r.Token == "" {
			return fmt.Errorf("token: required for type TOKEN (or set VAULT_TOKEN)")
		}
	case TypeAppRole:
		if r.RoleID == "" {
			return fmt.Errorf("roleId: required for type APP_ROLE (or set VAULT_APP_ROLE_ID)")
		}
		if r.SecretID == "" {
			return fmt.Errorf("secretId: required for type APP_ROLE (or set VAULT_APP_ROLE_SECRET_ID)")
		}
		if !pathRE.MatchString(r.Path) {
			return fmt.Errorf("path: %q is not a mount path", r.Path)
		}
	default:
		for _, t := range unsupportedTypes {
			if r.Type == t {
				return fmt.Errorf("type: %s is not supported yet; use TOKEN or APP_ROLE", t)
			}
		}
		return fmt.Errorf("type: unknown type %q; expect TOKEN or APP_ROLE", r.Type)
	}
	return nil
}

// keyID is a parsed Vault key id.
type keyID struct {
	host  string // host or host:port
	mount string // Transit mount path, possibly nested
	name  string // key name
}

var (
	segmentRE = `[A-Za-z0-9_.-]+`
	pathRE    = regexp.MustCompile(`^` + segmentRE + `(/` + segmentRE + `)*$`)
	nameRE    = regexp.MustCompile(`^` + segmentRE + `$`)
	hostRE    = regexp.MustCompile(`^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$`)
	templRE   = regexp.MustCompile(`\{\{[^{}]*\}\}`)
)

// CheckKeyID checks a Vault key id, the keySecretId after vault-kms://:
// <host[:port]>/<mount path>/keys/<name>, as in
// vault:8200/transit/keys/orders. Template placeholders ({{record.topic}})
// are accepted in the mount path and the name; the expanded id is checked
// again when it is used.
func CheckKeyID(id string) error {
	_, err := parseKeyID(templRE.ReplaceAllString(id, "x"))
	return err
}

// parseKeyID splits a key id into its parts.
func parseKeyID(id string) (keyID, error) {
	host, rest, ok := strings.Cut(id, "/")
	if !ok || rest == "" {
		return keyID{}, fmt.Errorf("vaultkms: key id %q: expect <host:port>/<mount path>/keys/<name>", id)
	}
	i := strings.LastIndex(rest, "/keys/")
	if i <= 0 {
		return keyID{}, fmt.Errorf("vaultkms: key id %q: expect <host:port>/<mount path>/keys/<name>", id)
	}
	k := keyID{host: host, mount: rest[:i], name: rest[i+len("/keys/"):]}
	h, port := host, ""
	if j := strings.LastIndex(host, ":"); j >= 0 && !strings.HasSuffix(host, "]") {
		h, port = host[:j], host[j+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
			return keyID{}, fmt.Errorf("vaultkms: key id %q: port %q is not a number from 1 to 65535", id, port)
		}
	}
	if !hostRE.MatchString(h) {
		return keyID{}, fmt.Errorf("vaultkms: key id %q: %q is not a host name or address", id, h)
	}
	if !pathRE.MatchString(k.mount) || strings.Contains("/"+k.mount+"/", "/../") || strings.Contains("/"+k.mount+"/", "/./") {
		return keyID{}, fmt.Errorf("vaultkms: key id %q: mount path %q may hold only letters, digits, '_', '-', '.' and '/'", id, k.mount)
	}
	if !nameRE.MatchString(k.name) || k.name == "." || k.name == ".." {
		return keyID{}, fmt.Errorf("vaultkms: key id %q: key name %q may hold only letters, digits, '_', '-' and '.'", id, k.name)
	}
	return k, nil
}
