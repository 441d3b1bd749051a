// Package azuretest is an in-process fake of the Azure Key Vault keys API
// that azurekms uses: the bearer-token challenge, and wrapkey/unwrapkey
// with real RSA-OAEP-256 over versioned RSA-2048 keys. It serves TLS on
// 127.0.0.1, since the Azure SDK sends tokens only over https.
package azuretest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Resource is the resource the fake's authentication challenge names.
const Resource = "https://vault.azure.net"

// Fake is a fake Key Vault. Close it when done.
type Fake struct {
	srv   *httptest.Server
	token string

	mu   sync.Mutex
	keys map[string][]version // by name, oldest first
}

type version struct {
	id  string
	key *rsa.PrivateKey
}

// New starts a fake vault with no keys.
func New() *Fake {
	f := &Fake{token: rand.Text(), keys: map[string][]version{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the vault URL (https://127.0.0.1:port).
func (f *Fake) URL() string { return f.srv.URL }

// Client is an HTTP client that trusts the fake's certificate.
func (f *Fake) Client() *http.Client { return f.srv.Client() }

// Close stops the fake.
func (f *Fake) Close() { f.srv.Close() }

// Rotate makes a new current version of a key, creating the key if
// needed, and returns the version.
func (f *Fake) Rotate(name string) (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("azuretest: %w", err)
	}
	v := version{id: rand.Text(), key: k}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[name] = append(f.keys[name], v)
	return v.id, nil
}

// Credential returns a credential whose tokens the fake accepts. It fails
// unless asked for the scope of the fake's challenge.
func (f *Fake) Credential() azcore.TokenCredential { return credential(f.token) }

type credential string

// GetToken returns the fake's token.
func (c credential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(o.Scopes) != 1 || o.Scopes[0] != Resource+"/.default" {
		return azcore.AccessToken{}, fmt.Errorf("azuretest: token asked for scopes %v", o.Scopes)
	}
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// operation is the JSON body of wrapkey and unwrapkey.
type operation struct {
	Alg   string `json:"alg,omitempty"`
	Value string `json:"value"` // base64url, no padding
	KID   string `json:"kid,omitempty"`
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="`+Resource+`"`)
		fail(w, http.StatusUnauthorized, "Unauthorized", "missing or unknown bearer token")
		return
	}
	// POST /keys/{name}/{version}/{op}, or /keys/{name}/{op} for the
	// current version.
	parts := strings.Split(r.URL.Path, "/")
	if len(parts) == 4 {
		parts = []string{parts[0], parts[1], parts[2], "", parts[3]}
	}
	if r.Method != http.MethodPost || len(parts) != 5 || parts[1] != "keys" || r.URL.Query().Get("api-version") == "" {
		fail(w, http.StatusBadRequest, "BadParameter", "unsupported request")
		return
	}
	name, versionID, op := parts[2], parts[3], parts[4]
	if op != "wrapkey" && op != "unwrapkey" {
		fail(w, http.StatusBadRequest, "BadParameter", "unsupported operation")
		return
	}
	var in operation
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "BadParameter", "body is not JSON")
		return
	}
	value, err := base64.RawURLEncoding.DecodeString(in.Value)
	if err != nil || in.Alg != "RSA-OAEP-256" {
		fail(w, http.StatusBadRequest, "BadParameter", "want alg RSA-OAEP-256 and a base64url value")
		return
	}
	v, ok := f.version(name, versionID)
	if !ok {
		fail(w, http.StatusNotFound, "KeyNotFound", fmt.Sprintf("key %s/%s not found", name, versionID))
		return
	}
	var out []byte
	if op == "wrapkey" {
		out, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, &v.key.PublicKey, value, nil)
	} else {
		out, err = rsa.DecryptOAEP(sha256.New(), nil, v.key, value, nil)
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "BadParameter", "operation failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(operation{
		KID:   fmt.Sprintf("https://%s/keys/%s/%s", r.Host, name, v.id),
		Value: base64.RawURLEncoding.EncodeToString(out),
	})
}

// version finds a key version; an empty id is the current one.
func (f *Fake) version(name, id string) (version, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.keys[name]
	if len(vs) == 0 {
		return version{}, false
	}
	if id == "" {
		return vs[len(vs)-1], true
	}
	for _, v := range vs {
		if v.id == id {
			return v, true
		}
	}
	return version{}, false
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
