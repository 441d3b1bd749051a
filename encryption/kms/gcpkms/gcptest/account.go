package gcptest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// accountEmail is the email of the fake's service account.
const accountEmail = "strait-test@p.iam.gserviceaccount.com"

// ServiceAccountFile writes a service account JSON key file into dir
// whose token URI is the fake's token endpoint, and returns its path.
// The fake gives its token for assertions signed with that key.
func (f *Fake) ServiceAccountFile(dir string) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("gcptest: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("gcptest: %w", err)
	}
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "p", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": accountEmail, "client_id": "1", "token_uri": f.srv.URL + "/token",
	})
	if err != nil {
		return "", fmt.Errorf("gcptest: %w", err)
	}
	path := filepath.Join(dir, "service-account.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("gcptest: %w", err)
	}
	f.mu.Lock()
	f.account = &key.PublicKey
	f.mu.Unlock()
	return path, nil
}

// serveToken answers an OAuth 2 JWT bearer grant signed by the service
// account's key with the fake's token.
func (f *Fake) serveToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	pub := f.account
	f.mu.Unlock()
	if pub == nil || r.PostFormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || !validAssertion(pub, r.PostFormValue("assertion")) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": f.token, "token_type": "Bearer", "expires_in": 3600})
}

// validAssertion checks an RS256 JWT's signature and issuer.
func validAssertion(pub *rsa.PublicKey, jwt string) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	return json.Unmarshal(payload, &claims) == nil && claims.Iss == accountEmail
}
