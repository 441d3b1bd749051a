package vaultkms

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxBody bounds the Vault responses read.
const maxBody = 1 << 20

// requestTimeout bounds one HTTP exchange when the caller's context has
// no earlier deadline.
const requestTimeout = 30 * time.Second

// KMS wraps data keys with Vault Transit keys. It is safe for concurrent
// use.
type KMS struct {
	cfg  Config // with the environment applied
	http *http.Client
	now  func() time.Time

	mu       sync.Mutex
	sessions map[string]*session // by Vault base URL
}

// New returns a Vault KMS for a checked config. It does no I/O: it logs
// in on first use.
func New(c *Config) (*KMS, error) {
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("vaultkms: %w", err)
	}
	return &KMS{
		cfg:      c.withEnv(),
		http:     &http.Client{Timeout: requestTimeout},
		now:      time.Now,
		sessions: map[string]*session{},
	}, nil
}

// Wrap encrypts dek with the key's encrypt endpoint and returns Vault's
// "vault:v<N>:..." ciphertext.
func (k *KMS) Wrap(ctx context.Context, keyID string, dek []byte) ([]byte, error) {
	var out struct {
		Ciphertext string `json:"ciphertext"`
	}
	err := k.call(ctx, keyID, "encrypt", map[string]string{"plaintext": base64.StdEncoding.EncodeToString(dek)}, &out)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(out.Ciphertext, "vault:v") {
		return nil, fmt.Errorf("vaultkms: encrypt with %s: vault returned no vault:v<N>: ciphertext", keyID)
	}
	return []byte(out.Ciphertext), nil
}

// Unwrap decrypts a ciphertext made by Wrap with the key's decrypt
// endpoint; any version of the key Vault still keeps can decrypt.
func (k *KMS) Unwrap(ctx context.Context, keyID string, wrapped []byte) ([]byte, error) {
	var out struct {
		Plaintext string `json:"plaintext"`
	}
	if err := k.call(ctx, keyID, "decrypt", map[string]string{"ciphertext": string(wrapped)}, &out); err != nil {
		return nil, err
	}
	dek, err := base64.StdEncoding.DecodeString(out.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("vaultkms: decrypt with %s: vault returned a plaintext that is not base64", keyID)
	}
	return dek, nil
}

// call posts body to <mount>/<op>/<name> of the key id's Vault and
// decodes the response's data into out.
func (k *KMS) call(ctx context.Context, id, op string, body, out any) error {
	key, err := parseKeyID(id)
	if err != nil {
		return err
	}
	base := k.cfg.URI
	if base == "" {
		base = "https://" + key.host
	}
	s := k.session(base)
	path := key.mount + "/" + op + "/" + key.name
	for attempt := 0; ; attempt++ {
		token, err := s.token(ctx)
		if err != nil {
			return fmt.Errorf("vaultkms: %s with %s: %w", op, id, err)
		}
		err = k.post(ctx, base, path, token, body, out)
		var denied *statusError
		if errors.As(err, &denied) && denied.code == http.StatusForbidden && s.login != nil && attempt == 0 {
			s.forget(token) // expired or revoked: log in again once
			continue
		}
		if err != nil {
			return fmt.Errorf("vaultkms: %s with %s: %w", op, id, err)
		}
		return nil
	}
}

// session returns the login state of a Vault base URL.
func (k *KMS) session(base string) *session {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.sessions[base]
	if s == nil {
		s = &session{sem: make(chan struct{}, 1), now: k.now}
		if k.cfg.Type == TypeAppRole {
			s.login = func(ctx context.Context) (string, time.Duration, error) { return k.appRoleLogin(ctx, base) }
		} else {
			s.static = k.cfg.Token
		}
		k.sessions[base] = s
	}
	return s
}

// statusError is a non-2xx Vault answer.
type statusError struct {
	code   int
	errors []string
}

func (e *statusError) Error() string {
	msg := strings.Join(e.errors, "; ")
	if msg == "" {
		msg = http.StatusText(e.code)
	}
	if e.code == http.StatusForbidden {
		return fmt.Sprintf("vault refused the request (%d: %s); check the token or AppRole and its policy", e.code, msg)
	}
	return fmt.Sprintf("vault answered %d: %s", e.code, msg)
}

// post sends one JSON request and decodes the answer's data into out.
func (k *KMS) post(ctx context.Context, base, path, token string, body, out any) error {
	resp, err := k.exchange(ctx, base, path, token, body)
	if err != nil {
		return err
	}
	var r struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || len(r.Data) == 0 {
		return fmt.Errorf("vault answered with no data object")
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		return fmt.Errorf("vault answered with malformed data: %w", err)
	}
	return nil
}

// exchange sends one JSON request and returns the body of a 2xx answer,
// or a *statusError.
func (k *KMS) exchange(ctx context.Context, base, path, token string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/"+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	if k.cfg.Namespace != "" {
		req.Header.Set("X-Vault-Namespace", k.cfg.Namespace)
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return nil, err // a *url.Error: the URL, never the headers
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &statusError{code: resp.StatusCode, errors: redact(decodeErrors(data), token, k.cfg.Token, k.cfg.SecretID)}
	}
	return data, nil
}

// decodeErrors returns the messages of Vault's {"errors":[...]} answer.
func decodeErrors(body []byte) []string {
	var e struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return nil
	}
	return e.Errors
}

// redact removes secrets from messages echoed by a server.
func redact(msgs []string, secrets ...string) []string {
	for i, m := range msgs {
		for _, s := range secrets {
			if s != "" {
				m = strings.ReplaceAll(m, s, "<redacted>")
			}
		}
		msgs[i] = m
	}
	return msgs
}
