package vaultkms

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/kms/vaultkms/vaulttest"
)

// newKMS returns a KMS for the fake with the given config changes.
func newKMS(t *testing.T, v *vaulttest.Server, edit func(*Config)) *KMS {
	t.Helper()
	t.Setenv("VAULT_TOKEN", "")
	c := Config{URI: v.URL, Token: v.Token}
	if edit != nil {
		edit(&c)
	}
	k, err := New(&c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rotate rotates a key of the fake through its HTTP API.
func rotate(t *testing.T, v *vaulttest.Server, mount, name string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, v.URL+"/v1/"+mount+"/keys/"+name+"/rotate", nil)
	req.Header.Set("X-Vault-Token", v.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %s", resp.Status)
	}
}

// wantErr checks that err holds every part and none of the secrets.
func wantErr(t *testing.T, err error, parts []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q reveals a secret", err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	v := vaulttest.Start(t)
	v.Mount("team/a/transit")
	k := newKMS(t, v, nil)
	ctx := context.Background()
	for _, id := range []string{v.KeyID("transit", "orders"), v.KeyID("team/a/transit", "orders")} {
		dek := []byte("0123456789abcdef0123456789abcdef")
		wrapped, err := k.Wrap(ctx, id, dek)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(wrapped, []byte("vault:v1:")) {
			t.Fatalf("wrapped = %q, want a vault:v1: ciphertext", wrapped)
		}
		if bytes.Contains(wrapped, dek) || bytes.Contains(wrapped, []byte(base64.StdEncoding.EncodeToString(dek))) {
			t.Fatalf("wrapped %q shows the data key", wrapped)
		}
		got, err := k.Unwrap(ctx, id, wrapped)
		if err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("Unwrap = %q, %v; want %q", got, err, dek)
		}
	}
	// A key of one mount cannot open the ciphertext of another's.
	wrapped, err := k.Wrap(ctx, v.KeyID("transit", "orders"), []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.Unwrap(ctx, v.KeyID("team/a/transit", "orders"), wrapped)
	wantErr(t, err, []string{"vaultkms: decrypt with", "400", "message authentication failed"})
}

func TestRotation(t *testing.T) {
	v := vaulttest.Start(t)
	k := newKMS(t, v, nil)
	ctx := context.Background()
	id := v.KeyID("transit", "orders")
	old, err := k.Wrap(ctx, id, []byte("old data key"))
	if err != nil {
		t.Fatal(err)
	}
	rotate(t, v, "transit", "orders")
	cur, err := k.Wrap(ctx, id, []byte("new data key"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(old, []byte("vault:v1:")) || !bytes.HasPrefix(cur, []byte("vault:v2:")) {
		t.Fatalf("ciphertexts %q and %q, want versions 1 and 2", old, cur)
	}
	for wrapped, want := range map[string]string{string(old): "old data key", string(cur): "new data key"} {
		got, err := k.Unwrap(ctx, id, []byte(wrapped))
		if err != nil || string(got) != want {
			t.Fatalf("Unwrap(%q) = %q, %v; want %q", wrapped, got, err, want)
		}
	}
}

func TestErrors(t *testing.T) {
	v := vaulttest.Start(t)
	ctx := context.Background()
	good := newKMS(t, v, nil)
	wrapped, err := good.Wrap(ctx, v.KeyID("transit", "orders"), []byte("dek"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(wrapped), "vault:v1:"))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	tampered := []byte("vault:v1:" + base64.StdEncoding.EncodeToString(raw))
	const badToken = "hvs.not-the-token"
	for _, tc := range []struct {
		name  string
		kms   *KMS
		call  func(k *KMS) error
		parts []string
	}{
		{"wrong token", newKMS(t, v, func(c *Config) { c.Token = badToken }), func(k *KMS) error {
			_, err := k.Wrap(ctx, v.KeyID("transit", "orders"), []byte("dek"))
			return err
		}, []string{"vaultkms: encrypt with", "403", "permission denied", "check the token"}},
		{"missing key", good, func(k *KMS) error {
			_, err := k.Unwrap(ctx, v.KeyID("transit", "nope"), wrapped)
			return err
		}, []string{"vaultkms: decrypt with", "transit/keys/nope", "400", "encryption key not found"}},
		{"tampered", good, func(k *KMS) error {
			_, err := k.Unwrap(ctx, v.KeyID("transit", "orders"), tampered)
			return err
		}, []string{"400", "message authentication failed"}},
		{"not a ciphertext", good, func(k *KMS) error {
			_, err := k.Unwrap(ctx, v.KeyID("transit", "orders"), []byte("plain"))
			return err
		}, []string{"400", "invalid ciphertext"}},
		{"unknown mount", good, func(k *KMS) error {
			_, err := k.Wrap(ctx, v.KeyID("nomount", "orders"), []byte("dek"))
			return err
		}, []string{"404", "no handler for route"}},
		{"bad key id", good, func(k *KMS) error {
			_, err := k.Wrap(ctx, "vault:8200/transit/orders", []byte("dek"))
			return err
		}, []string{"vaultkms: key id", "<host:port>/<mount path>/keys/<name>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.call(tc.kms), tc.parts, badToken, v.Token)
		})
	}
}

func TestUnavailable(t *testing.T) {
	v := vaulttest.Start(t)
	k := newKMS(t, v, nil)
	id := v.KeyID("transit", "orders")

	v.SetUnavailable(true)
	_, err := k.Wrap(context.Background(), id, []byte("dek"))
	wantErr(t, err, []string{"503", "Vault is sealed"}, v.Token)
	v.SetUnavailable(false)
	if _, err := k.Wrap(context.Background(), id, []byte("dek")); err != nil {
		t.Fatalf("after unsealing: %v", err)
	}

	v.SetStalled(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = k.Wrap(ctx, id, []byte("dek"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled Vault: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("stalled Vault: gave up after %v, want about 200ms", d)
	}
	v.SetStalled(false)

	v.Close()
	_, err = k.Wrap(context.Background(), id, []byte("dek"))
	wantErr(t, err, []string{"vaultkms: encrypt with", v.URL}, v.Token)
}

func TestNamespace(t *testing.T) {
	v := vaulttest.Start(t)
	ctx := context.Background()
	id := v.KeyID("transit", "orders")
	teamA := newKMS(t, v, func(c *Config) { c.Namespace = "team-a" })
	wrapped, err := teamA.Wrap(ctx, id, []byte("dek"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := newKMS(t, v, func(c *Config) { c.Namespace = "team-a" }).Unwrap(ctx, id, wrapped); err != nil || string(got) != "dek" {
		t.Fatalf("same namespace: %q, %v", got, err)
	}
	_, err = newKMS(t, v, nil).Unwrap(ctx, id, wrapped)
	wantErr(t, err, []string{"encryption key not found"})
}

func TestDefaultURIAndEnvToken(t *testing.T) {
	v := vaulttest.Start(t)
	t.Setenv("VAULT_TOKEN", v.Token)
	k, err := New(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	// No uri: https to the key id's host:port, which the plain-HTTP fake
	// cannot answer.
	_, err = k.Wrap(context.Background(), v.KeyID("transit", "orders"), []byte("dek"))
	wantErr(t, err, []string{"https://" + v.Addr + "/v1/transit/encrypt/orders"}, v.Token)
	// With uri, the token from the environment is used.
	k, err = New(&Config{URI: v.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Wrap(context.Background(), v.KeyID("transit", "orders"), []byte("dek")); err != nil {
		t.Fatal(err)
	}
}

func TestAppRole(t *testing.T) {
	v := vaulttest.Start(t)
	v.AddAppRole("approle", "role-1", "secret-1", time.Hour)
	v.AddAppRole("team/approle", "role-2", "secret-2", time.Second)
	ctx := context.Background()
	id := v.KeyID("transit", "orders")
	appRole := func(c *Config) { c.Token, c.Type, c.RoleID, c.SecretID = "", TypeAppRole, "role-1", "secret-1" }

	t.Run("login once, concurrently", func(t *testing.T) {
		k := newKMS(t, v, appRole)
		before := v.Logins()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				_, err := k.Wrap(ctx, id, []byte("dek"))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := v.Logins() - before; n != 1 {
			t.Fatalf("%d logins, want 1", n)
		}
	})

	t.Run("relogin on 403", func(t *testing.T) {
		k := newKMS(t, v, appRole)
		wrapped, err := k.Wrap(ctx, id, []byte("dek"))
		if err != nil {
			t.Fatal(err)
		}
		before := v.Logins()
		v.RevokeTokens()
		got, err := k.Unwrap(ctx, id, wrapped)
		if err != nil || string(got) != "dek" {
			t.Fatalf("after revocation: %q, %v", got, err)
		}
		if n := v.Logins() - before; n != 1 {
			t.Fatalf("%d logins after revocation, want 1", n)
		}
	})

	t.Run("relogin before the lease ends", func(t *testing.T) {
		k := newKMS(t, v, func(c *Config) {
			appRole(c)
			c.RoleID, c.SecretID, c.Path = "role-2", "secret-2", "team/approle"
		})
		if _, err := k.Wrap(ctx, id, []byte("dek")); err != nil {
			t.Fatal(err)
		}
		logins, denied := v.Logins(), v.Denied()
		time.Sleep(850 * time.Millisecond) // past 4/5 of the 1 s lease
		if _, err := k.Wrap(ctx, id, []byte("dek")); err != nil {
			t.Fatal(err)
		}
		if v.Logins() != logins+1 || v.Denied() != denied {
			t.Fatalf("logins %d→%d, denied %d→%d: want one new login and no refusal", logins, v.Logins(), denied, v.Denied())
		}
	})

	t.Run("bad secret", func(t *testing.T) {
		k := newKMS(t, v, func(c *Config) { appRole(c); c.SecretID = "wrong-secret" })
		_, err := k.Wrap(ctx, id, []byte("dek"))
		wantErr(t, err, []string{"AppRole login at auth/approle", "400", "invalid secret id"}, "wrong-secret", "secret-1")
	})

	t.Run("token only", func(t *testing.T) {
		k := newKMS(t, v, func(c *Config) { c.Token = "hvs.revoked" })
		before := v.Logins()
		_, err := k.Wrap(ctx, id, []byte("dek"))
		wantErr(t, err, []string{"403"}, "hvs.revoked")
		if v.Logins() != before {
			t.Fatal("TOKEN auth logged in")
		}
	})
}

func TestWithKeys(t *testing.T) {
	v := vaulttest.Start(t)
	k := newKMS(t, v, nil)
	calls := 0
	resolve := func(id string) (encryption.KMS, string, error) {
		calls++
		rest, ok := strings.CutPrefix(id, "vault-kms://")
		if !ok {
			return nil, "", errors.New("not a vault key")
		}
		return k, rest, nil
	}
	ctx := context.Background()
	keySecretID := "vault-kms://" + v.KeyID("transit", "orders")
	aad := encryption.Context("orders", "value")
	env, err := encryption.NewKeys(resolve, time.Hour).Seal(ctx, keySecretID, encryption.AES256GCM, []byte("card 4111"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env, []byte("card 4111")) {
		t.Fatal("envelope shows the plaintext")
	}
	// A fresh cache must ask Vault to unwrap the data key.
	got, err := encryption.NewKeys(resolve, time.Hour).Open(ctx, env, aad)
	if err != nil || string(got) != "card 4111" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if calls != 2 {
		t.Fatalf("%d resolutions, want one to wrap and one to unwrap", calls)
	}
}
