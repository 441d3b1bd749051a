package vaultkms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// session is the token used with one Vault: the configured one, or one
// got by logging in, renewed by logging in again before it expires or
// when Vault refuses it.
type session struct {
	static string                                                   // TOKEN auth
	login  func(ctx context.Context) (string, time.Duration, error) // APP_ROLE auth
	now    func() time.Time

	sem     chan struct{} // held while reading or replacing the token
	current string
	renewAt time.Time // zero: never
}

// token returns a token to send, logging in when there is none or it is
// about to expire.
func (s *session) token(ctx context.Context) (string, error) {
	if s.login == nil {
		return s.static, nil
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.sem }()
	if s.current != "" && (s.renewAt.IsZero() || s.now().Before(s.renewAt)) {
		return s.current, nil
	}
	token, lease, err := s.login(ctx)
	if err != nil {
		return "", err
	}
	s.current, s.renewAt = token, time.Time{}
	if lease > 0 {
		s.renewAt = s.now().Add(lease * 4 / 5) // log in again before it ends
	}
	return token, nil
}

// forget drops a token Vault refused, unless another caller replaced it
// already.
func (s *session) forget(token string) {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	if s.current == token {
		s.current = ""
	}
}

// appRoleLogin logs in with the AppRole auth method and returns the
// client token and its lease.
func (k *KMS) appRoleLogin(ctx context.Context, base string) (string, time.Duration, error) {
	body := map[string]string{"role_id": k.cfg.RoleID, "secret_id": k.cfg.SecretID}
	resp, err := k.exchange(ctx, base, "auth/"+k.cfg.Path+"/login", "", body)
	if err != nil {
		return "", 0, fmt.Errorf("AppRole login at auth/%s: %w", k.cfg.Path, err)
	}
	var r struct {
		Auth *struct {
			ClientToken   string `json:"client_token"`
			LeaseDuration int64  `json:"lease_duration"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || r.Auth == nil || r.Auth.ClientToken == "" {
		return "", 0, fmt.Errorf("AppRole login at auth/%s: vault answered with no client token", k.cfg.Path)
	}
	return r.Auth.ClientToken, time.Duration(r.Auth.LeaseDuration) * time.Second, nil
}
