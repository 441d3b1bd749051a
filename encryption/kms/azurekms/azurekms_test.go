package azurekms

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/kms/azurekms/azuretest"
)

const vault = "myvault.vault.azure.net"

// newTestKMS returns a KMS talking to the fake (or to endpoint, with the
// fake's credential and trust) and a key made in the fake.
func newTestKMS(t *testing.T, f *azuretest.Fake, endpoint string) *KMS {
	t.Helper()
	k, err := New(&Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	k.cred = f.Credential()
	k.opts.Transport = f.Client()
	k.opts.Retry = policy.RetryOptions{MaxRetries: 1, RetryDelay: 10 * time.Millisecond}
	return k
}

func newFake(t *testing.T, keys ...string) *azuretest.Fake {
	t.Helper()
	f := azuretest.New()
	t.Cleanup(f.Close)
	for _, k := range keys {
		if _, err := f.Rotate(k); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestRoundTripAndRotation(t *testing.T) {
	f := newFake(t, "kek")
	k := newTestKMS(t, f, f.URL())
	ctx := context.Background()
	dek := bytes.Repeat([]byte{7}, 32)
	id := vault + "/keys/kek"
	w1, err := k.Wrap(ctx, id, dek)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := f.Rotate("kek")
	if err != nil {
		t.Fatal(err)
	}
	w2, err := k.Wrap(ctx, id, dek)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := parseWrapped(w2); got != v2 {
		t.Fatalf("wrapped after rotation with version %s, want %s", got, v2)
	}
	for _, w := range [][]byte{w1, w2} {
		got, err := k.Unwrap(ctx, id, w)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, dek) {
			t.Fatalf("unwrapped %x, want %x", got, dek)
		}
	}
	// A key id pinned to a version wraps and unwraps with it.
	pinned := id + "/" + v2
	w3, err := k.Wrap(ctx, pinned, dek)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Unwrap(ctx, pinned, w3); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("pinned round trip: %x, %v", got, err)
	}
	if _, err := k.Unwrap(ctx, pinned, w1); err == nil {
		t.Fatal("pinned key id unwrapped a data key of another version")
	}
}

func TestFailures(t *testing.T) {
	f := newFake(t, "kek", "other")
	k := newTestKMS(t, f, f.URL())
	ctx := context.Background()
	w, err := k.Wrap(ctx, vault+"/keys/kek", []byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(w)
	tampered[len(tampered)-1] ^= 1
	if _, err := k.Unwrap(ctx, vault+"/keys/kek", tampered); err == nil {
		t.Error("tampered wrapped key unwrapped")
	}
	if _, err := k.Unwrap(ctx, vault+"/keys/other", w); err == nil {
		t.Error("another key unwrapped the data key")
	}
	if _, err := k.Wrap(ctx, vault+"/keys/missing", []byte("x")); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown key: %v, want a 404", err)
	}
	if _, err := k.Unwrap(ctx, vault+"/keys/kek", []byte{0}); err == nil {
		t.Error("malformed wrapped key unwrapped")
	}

	// Without the fake's token the vault refuses.
	stranger := newTestKMS(t, f, f.URL())
	stranger.cred = tokenFunc(func() string { return "wrong" })
	if _, err := stranger.Wrap(ctx, vault+"/keys/kek", []byte("x")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v, want a 401", err)
	}
}

type tokenFunc func() string

func (f tokenFunc) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: f(), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestVaultDown(t *testing.T) {
	f := newFake(t, "kek")
	// A listener that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	closed := httptest.NewTLSServer(http.NotFoundHandler())
	closed.Close()
	for _, endpoint := range []string{"https://" + ln.Addr().String(), closed.URL} {
		k := newTestKMS(t, f, endpoint)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		start := time.Now()
		_, err := k.Wrap(ctx, vault+"/keys/kek", []byte("x"))
		cancel()
		if err == nil {
			t.Fatalf("%s: wrap succeeded", endpoint)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("%s: failed after %v, past the deadline", endpoint, d)
		}
	}
}

func TestKeysRoundTrip(t *testing.T) {
	f := newFake(t, "kek")
	k := newTestKMS(t, f, f.URL())
	const secret = "azure-kms://" + vault + "/keys/kek"
	resolve := func(id string) (encryption.KMS, string, error) {
		return k, strings.TrimPrefix(id, "azure-kms://"), nil
	}
	ctx := context.Background()
	env, err := encryption.NewKeys(resolve, time.Hour).Seal(ctx, secret, encryption.AES256GCM, []byte("hello"), []byte("topic"))
	if err != nil {
		t.Fatal(err)
	}
	// A fresh cache must unwrap the data key through the vault.
	pt, err := encryption.NewKeys(resolve, time.Hour).Open(ctx, env, []byte("topic"))
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != "hello" {
		t.Fatalf("opened %q", pt)
	}
}

func FuzzParseWrapped(f *testing.F) {
	f.Add(appendWrapped(nil, "abc123", []byte{1, 2, 3}))
	f.Add([]byte{})
	f.Add([]byte{200, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ct, err := parseWrapped(b)
		if err != nil {
			return
		}
		if !bytes.Equal(appendWrapped(nil, v, ct), b) {
			t.Fatalf("parse of %x does not re-encode", b)
		}
	})
}
