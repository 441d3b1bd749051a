package gcpkms

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/kms/gcpkms/gcptest"
)

const (
	kek   = "projects/p/locations/global/keyRings/r/cryptoKeys/kek"
	other = "projects/p/locations/global/keyRings/r/cryptoKeys/other"
)

func newFake(t *testing.T, keys ...string) *gcptest.Fake {
	t.Helper()
	f := gcptest.New()
	t.Cleanup(f.Close)
	for _, k := range keys {
		f.Rotate(k)
	}
	return f
}

// newTestKMS returns a KMS that sends token to endpoint.
func newTestKMS(t *testing.T, endpoint, token string) *KMS {
	t.Helper()
	k, err := New(&Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	k.opts = append(k.opts, option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})))
	return k
}

func TestRoundTripAndRotation(t *testing.T) {
	f := newFake(t, kek)
	k := newTestKMS(t, f.URL(), f.Token())
	ctx := context.Background()
	dek := bytes.Repeat([]byte{9}, 32)
	w1, err := k.Wrap(ctx, kek, dek)
	if err != nil {
		t.Fatal(err)
	}
	f.Rotate(kek)
	w2, err := k.Wrap(ctx, kek, dek)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(w1[:4], w2[:4]) {
		t.Fatal("wrapped with the same version after rotation")
	}
	for _, w := range [][]byte{w1, w2} {
		got, err := k.Unwrap(ctx, kek, w)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, dek) {
			t.Fatalf("unwrapped %x, want %x", got, dek)
		}
	}
}

func TestFailures(t *testing.T) {
	f := newFake(t, kek, other)
	k := newTestKMS(t, f.URL(), f.Token())
	ctx := context.Background()
	w, err := k.Wrap(ctx, kek, []byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(w)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name string
		k    *KMS
		call func(*KMS) error
		want string
	}{
		{"tampered", k, func(k *KMS) error { _, err := k.Unwrap(ctx, kek, tampered); return err }, "Error 400"},
		{"wrong key", k, func(k *KMS) error { _, err := k.Unwrap(ctx, other, w); return err }, "Error 400"},
		{"unknown key", k, func(k *KMS) error { _, err := k.Wrap(ctx, kek+"x", w); return err }, "Error 404"},
		{"bad key id", k, func(k *KMS) error { _, err := k.Wrap(ctx, "kek", w); return err }, "key id"},
		{"wrong token", newTestKMS(t, f.URL(), "stolen"), func(k *KMS) error { _, err := k.Wrap(ctx, kek, w); return err }, "Error 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.k)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), f.Token()) {
				t.Fatal("error shows the token")
			}
		})
	}
}

func TestNoToken(t *testing.T) {
	f := newFake(t, kek)
	k, err := New(&Config{Endpoint: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	k.opts = append(k.opts, option.WithoutAuthentication())
	if _, err := k.Wrap(context.Background(), kek, []byte("x")); err == nil || !strings.Contains(err.Error(), "Error 401") {
		t.Fatalf("got %v, want a 401", err)
	}
}

func TestKMSDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never answer
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, endpoint := range []string{"http://" + ln.Addr().String(), closed.URL} {
		k := newTestKMS(t, endpoint, "t")
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		start := time.Now()
		_, err := k.Wrap(ctx, kek, []byte("x"))
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
	f := newFake(t, kek)
	k := newTestKMS(t, f.URL(), f.Token())
	resolve := func(id string) (encryption.KMS, string, error) {
		return k, strings.TrimPrefix(id, "gcp-kms://"), nil
	}
	ctx := context.Background()
	env, err := encryption.NewKeys(resolve, time.Hour).Seal(ctx, "gcp-kms://"+kek, encryption.AES256GCM, []byte("hello"), []byte("topic"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := encryption.NewKeys(resolve, time.Hour).Open(ctx, env, []byte("topic"))
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != "hello" {
		t.Fatalf("opened %q", pt)
	}
}

func TestServiceAccountFile(t *testing.T) {
	f := newFake(t, kek)
	path, err := f.ServiceAccountFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k, err := New(&Config{ServiceAccountCredentialsFilePath: path, Endpoint: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := k.Wrap(ctx, kek, []byte("dek"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Unwrap(ctx, kek, w); err != nil || string(got) != "dek" {
		t.Fatalf("unwrapped %q, %v", got, err)
	}

	// A file whose key the fake does not know gets no token.
	stranger := newFake(t)
	if path, err = stranger.ServiceAccountFile(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	k, err = New(&Config{ServiceAccountCredentialsFilePath: path, Endpoint: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Wrap(ctx, kek, []byte("dek")); err == nil {
		t.Fatal("wrapped with a token from another fake")
	}
}
