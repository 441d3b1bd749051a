// Package vaulttest is a fake HashiCorp Vault for tests: an HTTP server on
// 127.0.0.1 that answers the Transit secrets engine (create, rotate,
// encrypt, decrypt) and AppRole login the way Vault's HTTP API does, with
// real AES-256-GCM inside, token checks, X-Vault-Namespace, and switches
// that make it unavailable or unresponsive.
package vaulttest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running fake Vault.
type Server struct {
	// URL is the base URL, http://127.0.0.1:<port>.
	URL string
	// Addr is 127.0.0.1:<port>, the host part of vault-kms:// key ids.
	Addr string
	// Token is a root token: valid in every namespace, never expires.
	Token string

	srv *httptest.Server

	mu          sync.Mutex
	mounts      map[string]bool      // Transit mount paths
	keys        map[string]*key      // by namespace, mount and name
	tokens      map[string]time.Time // issued tokens to their expiry
	roles       map[string]appRole   // by auth mount path and role id
	unavailable bool                 // answer 503 as a sealed Vault does
	stalled     chan struct{}        // closed when no longer stalled
	logins      int                  // successful AppRole logins
	denied      int                  // requests refused for their token
}

// appRole is a role of the AppRole auth method.
type appRole struct {
	secretID string
	ttl      time.Duration
}

// Start starts a fake Vault with a Transit engine mounted at transit/ and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		Token:  "root-" + randomHex(8),
		mounts: map[string]bool{"transit": true},
		keys:   map[string]*key{},
		tokens: map[string]time.Time{},
		roles:  map[string]appRole{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve)) // listens on 127.0.0.1
	s.URL = s.srv.URL
	s.Addr = strings.TrimPrefix(s.srv.URL, "http://")
	t.Cleanup(s.Close)
	return s
}

// KeyID returns the vault-kms:// key id (without the prefix) of a key of
// this server.
func (s *Server) KeyID(mount, name string) string { return s.Addr + "/" + mount + "/keys/" + name }

// Mount enables another Transit engine at path, which may be nested
// ("team/a/transit").
func (s *Server) Mount(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[strings.Trim(path, "/")] = true
}

// AddAppRole creates an AppRole role under the auth method mounted at
// authPath ("approle" by default in Vault) whose tokens live for ttl.
func (s *Server) AddAppRole(authPath, roleID, secretID string, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[strings.Trim(authPath, "/")+"\x00"+roleID] = appRole{secretID: secretID, ttl: ttl}
}

// RevokeTokens revokes every token issued by logins; the root token stays.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Logins returns how many AppRole logins succeeded.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Denied returns how many requests were refused with 403 for a missing,
// wrong, expired or revoked token.
func (s *Server) Denied() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denied
}

// SetUnavailable makes every request fail with 503, as a sealed Vault
// answers, until called with false.
func (s *Server) SetUnavailable(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable = on
}

// SetStalled makes requests hang, without an answer, until called with
// false or the client gives up.
func (s *Server) SetStalled(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case on && s.stalled == nil:
		s.stalled = make(chan struct{})
	case !on && s.stalled != nil:
		close(s.stalled)
		s.stalled = nil
	}
}

// Close stops the server; later requests find nothing listening.
func (s *Server) Close() {
	s.SetStalled(false)
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// serve answers one request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	unavailable, stalled := s.unavailable, s.stalled
	s.mu.Unlock()
	if stalled != nil {
		select {
		case <-stalled:
		case <-r.Context().Done():
			return
		}
	}
	if unavailable {
		fail(w, http.StatusServiceUnavailable, "Vault is sealed")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		fail(w, http.StatusNotFound, "no handler for route")
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		fail(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	if rest, ok := strings.CutPrefix(path, "auth/"); ok && strings.HasSuffix(rest, "/login") {
		s.appRoleLogin(w, r, strings.TrimSuffix(rest, "/login"))
		return
	}
	if !s.validToken(r.Header.Get("X-Vault-Token")) {
		s.mu.Lock()
		s.denied++
		s.mu.Unlock()
		fail(w, http.StatusForbidden, "permission denied")
		return
	}
	s.transit(w, r, r.Header.Get("X-Vault-Namespace"), path)
}

// validToken reports whether a token is the root token or an unexpired
// issued one.
func (s *Server) validToken(token string) bool {
	if token == "" {
		return false
	}
	if token == s.Token {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	return ok && time.Now().Before(exp)
}

// appRoleLogin answers POST /v1/auth/<authPath>/login.
func (s *Server) appRoleLogin(w http.ResponseWriter, r *http.Request, authPath string) {
	var req struct {
		RoleID   string `json:"role_id"`
		SecretID string `json:"secret_id"`
	}
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	role, ok := s.roles[authPath+"\x00"+req.RoleID]
	if !ok || req.RoleID == "" {
		s.mu.Unlock()
		fail(w, http.StatusBadRequest, "invalid role ID")
		return
	}
	if req.SecretID != role.secretID {
		s.mu.Unlock()
		fail(w, http.StatusBadRequest, "invalid secret id")
		return
	}
	token := "s." + randomHex(12)
	s.tokens[token] = time.Now().Add(role.ttl)
	s.logins++
	s.mu.Unlock()
	reply(w, map[string]any{
		"auth": map[string]any{
			"client_token":   token,
			"accessor":       randomHex(12),
			"policies":       []string{"default"},
			"token_policies": []string{"default"},
			"lease_duration": int64(role.ttl / time.Second),
			"renewable":      true,
			"token_type":     "service",
		},
	})
}

// decode reads a JSON request body, answering 400 when it is malformed.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 {
		return true // Vault takes an empty body as no fields
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20)).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
		return false
	}
	return true
}

// reply writes a 200 answer with Vault's response envelope around fields
// (data, auth).
func reply(w http.ResponseWriter, fields map[string]any) {
	body := map[string]any{
		"request_id": randomHex(16), "lease_id": "", "renewable": false, "lease_duration": 0,
		"data": nil, "wrap_info": nil, "warnings": nil, "auth": nil,
	}
	for k, v := range fields {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// fail writes Vault's error answer.
func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string][]string{"errors": {msg}})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
