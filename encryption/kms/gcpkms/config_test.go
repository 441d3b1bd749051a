package gcpkms

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
		{"default credentials", &Config{}, ""},
		{"file", &Config{ServiceAccountCredentialsFilePath: "/etc/strait/sa.json"}, ""},
		{"https endpoint", &Config{Endpoint: "https://private.example:443"}, ""},
		{"http endpoint", &Config{Endpoint: "http://127.0.0.1:9000/"}, ""},
		{"endpoint without scheme", &Config{Endpoint: "127.0.0.1:9000"}, "endpoint"},
		{"endpoint with path", &Config{Endpoint: "https://h/v1"}, "endpoint"},
		{"endpoint ftp", &Config{Endpoint: "ftp://h"}, "endpoint"},
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

func TestCheckKeyID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"projects/p/locations/global/keyRings/r/cryptoKeys/k", true},
		{"projects/my-proj/locations/europe-west1/keyRings/ring_1/cryptoKeys/kek-2", true},
		{"projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1", false},
		{"projects/p/locations/global/keyRings/r/cryptoKeys/", false},
		{"projects/p/locations/global/keyrings/r/cryptoKeys/k", false},
		{"projects/p/locations/global/keyRings/r/cryptoKeys/k.k", false},
		{"p/locations/global/keyRings/r/cryptoKeys/k", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := CheckKeyID(tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckKeyID(%q) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
}

func FuzzCheckKeyID(f *testing.F) {
	f.Add("projects/p/locations/global/keyRings/r/cryptoKeys/k")
	f.Add("projects//locations")
	f.Fuzz(func(t *testing.T, id string) {
		if CheckKeyID(id) != nil {
			return
		}
		if strings.Count(id, "/") != 7 || !strings.HasPrefix(id, "projects/") {
			t.Fatalf("accepted %q", id)
		}
	})
}
