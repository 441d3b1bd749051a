package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/store"
	"github.com/strait-gateway/strait/vcluster"
)

// Errors of the management operations, for the admin API to map to
// status codes.
var (
	ErrInvalid  = errors.New("invalid request")
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// maxTokenLifetime bounds gateway tokens; revocation records must outlive
// the tokens they revoke, so an unbounded lifetime would keep them forever.
const maxTokenLifetime = 366 * 24 * time.Hour

var accountNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,249}$`)

// IssueToken signs a gateway token for a LOCAL service account.
func (id *Identity) IssueToken(vc, username string, lifetime time.Duration) (token, tokenID string, expires time.Time, err error) {
	if id.cfg.Keys == nil {
		return "", "", time.Time{}, fmt.Errorf("%w: no user pool: set GATEWAY_USER_POOL_SECRET_KEY to issue tokens", ErrConflict)
	}
	if vc == "" {
		vc = vcluster.Passthrough
	}
	if err := id.checkAccount(vc, username); err != nil {
		return "", "", time.Time{}, err
	}
	if lifetime <= 0 || lifetime > maxTokenLifetime {
		return "", "", time.Time{}, fmt.Errorf("%w: lifeTimeSeconds: expect 1 to %d", ErrInvalid, int(maxTokenLifetime.Seconds()))
	}
	now := time.Now()
	token, tokenID, err = id.cfg.Keys.Issue(vc, username, lifetime, now)
	return token, tokenID, now.Add(lifetime).Truncate(time.Second), err
}

// checkAccount checks that a token or credential may be made for
// (vc, username): the virtual cluster exists and the account, if it
// exists, is LOCAL (and exists, when accounts are required).
func (id *Identity) checkAccount(vc, username string) error {
	if !accountNameRE.MatchString(username) {
		return fmt.Errorf("%w: username %q: expect 1–249 letters, digits, '.', '_' or '-'", ErrInvalid, username)
	}
	d := id.dir.Load()
	if d.spaces[vc] == nil {
		return fmt.Errorf("%w: virtual cluster %s", ErrNotFound, vc)
	}
	a, ok := d.accounts[[2]string{vc, username}]
	switch {
	case ok && a.external:
		return fmt.Errorf("%w: service account %s/%s is EXTERNAL; it authenticates outside the gateway", ErrConflict, vc, username)
	case !ok && id.cfg.AccountRequired:
		return fmt.Errorf("%w: service account %s/%s (GATEWAY_USER_POOL_SERVICE_ACCOUNT_REQUIRED is set)", ErrNotFound, vc, username)
	}
	return nil
}

// RevokeToken revokes a gateway token, given the token itself or its id.
// Every node closes the connections that authenticated with it as soon as
// it reads the revocation.
func (id *Identity) RevokeToken(ctx context.Context, token, tokenID string) error {
	expires := time.Now().Add(maxTokenLifetime)
	if token != "" {
		if id.cfg.Keys == nil {
			return fmt.Errorf("%w: no user pool configured", ErrConflict)
		}
		// An expired token needs no revocation, but revoking it anyway
		// is harmless; only a token that is not ours is refused.
		claims, err := id.cfg.Keys.Verify(token, time.Now())
		if err != nil && !errors.Is(err, auth.ErrExpired) {
			return fmt.Errorf("%w: token: %v", ErrInvalid, err)
		}
		tokenID, expires = claims.ID, claims.Expires
	}
	if tokenID == "" {
		return fmt.Errorf("%w: give the token or its id", ErrInvalid)
	}
	v, _ := json.Marshal(revokedEntry{Expires: expires.Unix()})
	return id.secrets.Put(ctx, revokedKey(tokenID), v)
}

// SetScram stores a SCRAM credential for a LOCAL service account; the
// password itself is never stored.
func (id *Identity) SetScram(ctx context.Context, vc, username, mechanism, password string, iterations int) error {
	if vc == "" {
		vc = vcluster.Passthrough
	}
	if err := id.checkAccount(vc, username); err != nil {
		return err
	}
	if iterations == 0 {
		iterations = 8192
	}
	cred, err := auth.NewCredential(mechanism, password, iterations)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	v, _ := json.Marshal(scramEntry{VCluster: vc, Username: username, Credential: cred})
	return id.secrets.Put(ctx, scramKey(vc, username, mechanism), v)
}

// DeleteScram removes a SCRAM credential.
func (id *Identity) DeleteScram(ctx context.Context, vc, username, mechanism string) error {
	if vc == "" {
		vc = vcluster.Passthrough
	}
	key := scramKey(vc, username, mechanism)
	if _, ok := id.secrets.Snapshot().Entries[string(key)]; !ok {
		return fmt.Errorf("%w: no %s credential for %s/%s", ErrNotFound, mechanism, vc, username)
	}
	return id.secrets.Put(ctx, key, nil)
}

// WatchRevocations calls fn with the id of every token revoked from now
// on, on every node, as the revocation is read.
func (id *Identity) WatchRevocations(fn func(tokenID string)) {
	seen := map[string]bool{}
	for k, s := range id.secrets.Snapshot().Entries {
		if s.revoked != nil {
			seen[k] = true
		}
	}
	id.secrets.Watch(func(snap *storeSnapshot) {
		for k, s := range snap.Entries {
			if s.revoked != nil && !seen[k] {
				seen[k] = true
				fn(s.revoked.ID)
			}
		}
	})
}

type storeSnapshot = store.Snapshot[secret]

// PurgeRevocations deletes the revocations of tokens that have expired
// anyway. Any node may run it; deleting twice is harmless.
func (id *Identity) PurgeRevocations(ctx context.Context, now time.Time) error {
	for k, s := range id.secrets.Snapshot().Entries {
		if s.revoked != nil && now.After(s.revoked.until()) {
			if err := id.secrets.Put(ctx, []byte(k), nil); err != nil {
				return fmt.Errorf("identity: purge revocation: %w", err)
			}
		}
	}
	return nil
}
