package awskms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/kms/awskms"
	"github.com/strait-gateway/strait/encryption/kms/awskms/awstest"
)

func TestLocalKMS(t *testing.T) { testServer(t, awstest.LocalKMS(t)) }

func TestMoto(t *testing.T) { testServer(t, awstest.Moto(t)) }

// testServer runs every check against one KMS API server.
func testServer(t *testing.T, s *awstest.Server) {
	cfg := s.Config()
	k, err := awskms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	key := s.CreateKey(t)
	other := s.CreateKey(t)
	alias := s.CreateAlias(t, key, fmt.Sprintf("strait-%d", time.Now().UnixNano()))
	ctx := context.Background()
	dek := randomBytes(t, 32)
	wrapped, err := k.Wrap(ctx, key, dek)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, dek) {
		t.Fatal("the wrapped data key contains the clear one")
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := k.Unwrap(ctx, key, wrapped)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, dek) {
			t.Fatalf("unwrapped %x, want %x", got, dek)
		}
	})
	t.Run("alias ARN", func(t *testing.T) {
		w, err := k.Wrap(ctx, alias, dek)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{alias, key} {
			got, err := k.Unwrap(ctx, id, w)
			if err != nil {
				t.Fatalf("unwrap with %s: %v", id, err)
			}
			if !bytes.Equal(got, dek) {
				t.Fatalf("unwrap with %s: got %x, want %x", id, got, dek)
			}
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		_, err := k.Unwrap(ctx, other, wrapped)
		wantErr(t, err, other, cfg.BasicCredentials.SecretKey)
	})
	t.Run("tampered", func(t *testing.T) {
		// A flipped bit must never give another key. local-kms ignores
		// the key ARN in its blob's header when the key id is given, so
		// flips there may still give the right key; flips of the first
		// byte and of the GCM tag at the end must fail on every server.
		accepted := 0
		for i := range wrapped {
			bad := bytes.Clone(wrapped)
			bad[i] ^= 0x01
			got, err := k.Unwrap(ctx, key, bad)
			switch {
			case err == nil && !bytes.Equal(got, dek):
				t.Fatalf("flipping byte %d of %d: unwrapped another key %x", i, len(wrapped), got)
			case err == nil && (i == 0 || i >= len(wrapped)-16):
				t.Fatalf("flipping byte %d of %d: unwrapped", i, len(wrapped))
			case err == nil:
				accepted++
			}
		}
		t.Logf("%d of %d flipped bytes unwrapped to the right key", accepted, len(wrapped))
	})
	t.Run("encryption context", func(t *testing.T) {
		// The documented context is needed, and enough, to decrypt.
		if _, err := s.Client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wrapped}); err == nil {
			t.Fatal("decrypted without the encryption context")
		}
		out, err := s.Client.Decrypt(ctx, &kms.DecryptInput{
			CiphertextBlob:    wrapped,
			EncryptionContext: map[string]string{"strait": "dek"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Plaintext, dek) {
			t.Fatalf("decrypted %x, want %x", out.Plaintext, dek)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		missing := key[:strings.LastIndex(key, "/")+1] + "00000000-0000-0000-0000-000000000000"
		_, err := k.Wrap(ctx, missing, dek)
		wantErr(t, err, missing, cfg.BasicCredentials.SecretKey)
	})
	t.Run("not an ARN", func(t *testing.T) {
		_, err := k.Wrap(ctx, "alias/strait", dek)
		wantErr(t, err, "alias/strait", "")
	})
	t.Run("cancelled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := k.Wrap(c, key, dek); err == nil {
			t.Fatal("wrapped with a cancelled context")
		}
		if _, err := k.Unwrap(c, key, wrapped); err == nil {
			t.Fatal("unwrapped with a cancelled context")
		}
	})
	t.Run("keys", func(t *testing.T) { testKeys(t, k, key, alias) })
}

// testKeys seals and opens records through encryption.Keys.
func testKeys(t *testing.T, k *awskms.KMS, key, alias string) {
	resolve := func(id string) (encryption.KMS, string, error) {
		rest, ok := strings.CutPrefix(id, "aws-kms://")
		if !ok {
			return nil, "", fmt.Errorf("no KMS for %s", id)
		}
		return k, rest, nil
	}
	ctx := context.Background()
	for _, ttl := range []time.Duration{0, time.Minute} {
		for _, id := range []string{key, alias} {
			// Separate Keys, so Open unwraps through KMS and not a cache.
			sealKeys, openKeys := encryption.NewKeys(resolve, ttl), encryption.NewKeys(resolve, ttl)
			adata := encryption.Context("orders", "value")
			env, err := sealKeys.Seal(ctx, "aws-kms://"+id, encryption.AES256GCM, []byte("secret order"), adata)
			if err != nil {
				t.Fatalf("ttl %s, %s: %v", ttl, id, err)
			}
			got, err := openKeys.Open(ctx, env, adata)
			if err != nil {
				t.Fatalf("ttl %s, %s: %v", ttl, id, err)
			}
			if string(got) != "secret order" {
				t.Fatalf("ttl %s, %s: opened %q", ttl, id, got)
			}
			if _, err := openKeys.Open(ctx, env, encryption.Context("other", "value")); err == nil {
				t.Fatalf("ttl %s, %s: opened with another topic's context", ttl, id)
			}
		}
	}
}

// wantErr checks that err is an awskms error naming keyID and not
// holding secret.
func wantErr(t *testing.T, err error, keyID, secret string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "awskms: ") || !strings.Contains(msg, keyID) {
		t.Fatalf("error %q does not start with awskms: or name %s", msg, keyID)
	}
	if secret != "" && strings.Contains(msg, secret) {
		t.Fatalf("error %q holds the secret key", msg)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
