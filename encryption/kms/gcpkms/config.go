package gcpkms

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Config is the gcpKmsConfig of an encryption interceptor's kmsConfig.
// Without a credentials file, Application Default Credentials are used.
type Config struct {
	ServiceAccountCredentialsFilePath string `json:"serviceAccountCredentialsFilePath" doc:"JSON key file of a service account (default: Application Default Credentials)"`
	Endpoint                          string `json:"endpoint" doc:"URL used instead of https://cloudkms.googleapis.com (private endpoints, tests)"`
}

// Check validates the configuration without I/O. Errors name the field.
func (c *Config) Check() error {
	if c == nil || c.Endpoint == "" {
		return nil
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return errors.New("endpoint: must be an http or https URL with a host and no path, e.g. https://cloudkms.googleapis.com")
	}
	return nil
}

// CheckKeyID checks a key id:
// projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>.
// Data keys are wrapped with the key's primary version; Cloud KMS finds
// the version that wrapped a data key by itself.
func CheckKeyID(id string) error {
	parts := strings.Split(id, "/")
	want := []string{"projects", "", "locations", "", "keyRings", "", "cryptoKeys", ""}
	if len(parts) != len(want) {
		return fmt.Errorf("gcpkms: key id %q: want projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>", id)
	}
	for i, p := range parts {
		if want[i] != "" && p != want[i] {
			return fmt.Errorf("gcpkms: key id %q: want %q where %q is", id, want[i], p)
		}
		if want[i] == "" && !isName(p) {
			return fmt.Errorf("gcpkms: key id %q: %s must be 1 to 63 letters, digits, '-' or '_'", id, want[i-1])
		}
	}
	return nil
}

// isName reports whether s is a valid resource name segment.
func isName(s string) bool {
	if len(s) < 1 || len(s) > 63 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}
