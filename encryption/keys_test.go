package encryption

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKMS wraps DEKs with one AES-256-GCM key bound to the key id, and
// counts its calls. It can be told to fail or to hold each Wrap a while.
type testKMS struct {
	kek       cipher.AEAD
	wrapDelay time.Duration
	fail      atomic.Bool
	wraps     atomic.Int32 // calls, failed ones included
	unwraps   atomic.Int32

	mu   sync.Mutex
	deks [][]byte // every DEK given to Wrap
}

func newTestKMS(t *testing.T) *testKMS {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	kek, err := AES256GCM.aead(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &testKMS{kek: kek}
}

var errKMSDown = errors.New("test kms is down")

func (m *testKMS) Wrap(_ context.Context, keyID string, dek []byte) ([]byte, error) {
	m.wraps.Add(1)
	time.Sleep(m.wrapDelay)
	if m.fail.Load() {
		return nil, errKMSDown
	}
	m.mu.Lock()
	m.deks = append(m.deks, bytes.Clone(dek))
	m.mu.Unlock()
	nonce := make([]byte, m.kek.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return m.kek.Seal(nonce, nonce, dek, []byte(keyID)), nil
}

func (m *testKMS) Unwrap(_ context.Context, keyID string, wrapped []byte) ([]byte, error) {
	m.unwraps.Add(1)
	if m.fail.Load() {
		return nil, errKMSDown
	}
	n := m.kek.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("test kms: wrapped key cut short")
	}
	return m.kek.Open(nil, wrapped[:n], wrapped[n:], []byte(keyID))
}

// resolver routes every keySecretId to m, with the whole id as key id.
func (m *testKMS) resolver() Resolver {
	return func(id string) (KMS, string, error) { return m, id, nil }
}

// fakeClock is a settable clock for Keys.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newTestKeys returns Keys on m with a fake clock.
func newTestKeys(m *testKMS, ttl time.Duration) (*Keys, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	k := NewKeys(m.resolver(), ttl)
	k.now = c.now
	return k, c
}

// sealOK seals and fails the test on error.
func sealOK(t *testing.T, k *Keys, alg Algorithm, pt, aad []byte) []byte {
	t.Helper()
	env, err := k.Seal(context.Background(), testKeyID, alg, pt, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return env
}

func openOK(t *testing.T, k *Keys, env, aad, want []byte) {
	t.Helper()
	pt, err := k.Open(context.Background(), env, aad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !bytes.Equal(pt, want) {
		t.Fatalf("Open = %q, want %q", pt, want)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := Context("orders", "value")
	for alg := range algorithms {
		for _, ttl := range []time.Duration{0, time.Hour} {
			t.Run(alg.String()+"/ttl="+ttl.String(), func(t *testing.T) {
				m := newTestKMS(t)
				k, _ := newTestKeys(m, ttl)
				for _, pt := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("secret "), 1000)} {
					env := sealOK(t, k, alg, pt, ctx)
					e, err := Parse(env)
					if err != nil {
						t.Fatalf("Parse of a sealed envelope: %v", err)
					}
					if e.Algorithm != alg || e.KeyID != testKeyID || len(e.Ciphertext) != len(pt)+alg.overhead() {
						t.Fatalf("sealed envelope: %v %q, %d ciphertext bytes", e.Algorithm, e.KeyID, len(e.Ciphertext))
					}
					openOK(t, k, env, ctx, pt)
					// A node that never sealed unwraps with the KMS.
					other, _ := newTestKeys(m, ttl)
					openOK(t, other, env, ctx, pt)
				}
			})
		}
	}
}

func TestOpenOtherContextFails(t *testing.T) {
	m := newTestKMS(t)
	k, _ := newTestKeys(m, time.Hour)
	env := sealOK(t, k, AES128GCM, []byte("card 4111"), Context("orders", "value:card"))
	for _, c := range [][]byte{
		Context("payments", "value:card"),
		Context("orders", "value:name"),
		Context("orders", "value"),
		Context("orders", "key"),
		Context("order", "svalue:card"),
		nil,
	} {
		if pt, err := k.Open(context.Background(), env, c); err == nil {
			t.Errorf("Open with context %q = %q, want an error", c, pt)
		} else if !strings.Contains(err.Error(), "context") {
			t.Errorf("Open with context %q: error %q does not mention the context", c, err)
		}
	}
}

// TestOpenDetectsFlippedByte flips each byte of envelopes, header and
// ciphertext alike: Open must fail, both on the sealing node (DEK cached)
// and on another (DEK unwrapped).
func TestOpenDetectsFlippedByte(t *testing.T) {
	ctx := Context("orders", "value")
	for alg := range algorithms {
		m := newTestKMS(t)
		k, _ := newTestKeys(m, time.Hour)
		env := sealOK(t, k, alg, []byte("some plaintext"), ctx)
		for i := range env {
			for _, mask := range []byte{0x01, 0x80, 0xFF} {
				bad := bytes.Clone(env)
				bad[i] ^= mask
				other, _ := newTestKeys(m, time.Hour)
				for name, keys := range map[string]*Keys{"sealer": k, "other": other} {
					if pt, err := keys.Open(context.Background(), bad, ctx); err == nil {
						t.Fatalf("%s: %s: Open with byte %d of %d xor %#x = %q, want an error", alg, name, i, len(env), mask, pt)
					}
				}
			}
		}
		openOK(t, k, env, ctx, []byte("some plaintext"))
	}
}

func TestDEKReusedWithinTTL(t *testing.T) {
	m := newTestKMS(t)
	k, clock := newTestKeys(m, time.Minute)
	ctx := Context("orders", "value")
	first := sealOK(t, k, AES256GCM, []byte("p"), ctx)
	head, _ := Parse(first)
	for range 100 {
		env := sealOK(t, k, AES256GCM, []byte("p"), ctx)
		e, _ := Parse(env)
		if !bytes.Equal(e.Wrapped, head.Wrapped) {
			t.Fatal("a new DEK was made within the ttl")
		}
		openOK(t, k, env, ctx, []byte("p"))
	}
	clock.add(time.Minute - time.Nanosecond)
	sealOK(t, k, AES256GCM, []byte("p"), ctx)
	if n, u := m.wraps.Load(), m.unwraps.Load(); n != 1 || u != 0 {
		t.Fatalf("%d wraps and %d unwraps within the ttl, want 1 and 0", n, u)
	}
	// Other algorithms of the same key get their own DEK.
	sealOK(t, k, AES128GCM, []byte("p"), ctx)
	if n := m.wraps.Load(); n != 2 {
		t.Fatalf("%d wraps after sealing with a second algorithm, want 2", n)
	}
	clock.add(time.Nanosecond)
	env := sealOK(t, k, AES256GCM, []byte("p"), ctx)
	if n := m.wraps.Load(); n != 3 {
		t.Fatalf("%d wraps after the ttl, want 3", n)
	}
	if e, _ := Parse(env); bytes.Equal(e.Wrapped, head.Wrapped) {
		t.Fatal("the DEK was reused after its ttl")
	}
	// The expired DEK's envelopes now need the KMS to open.
	openOK(t, k, first, ctx, []byte("p"))
	if u := m.unwraps.Load(); u != 1 {
		t.Fatalf("%d unwraps opening an envelope of an expired DEK, want 1", u)
	}
}

func TestDEKRetiredAfterMaxUses(t *testing.T) {
	m := newTestKMS(t)
	k, _ := newTestKeys(m, time.Hour)
	k.maxUses = 3
	heads := map[string]int{}
	for range 7 {
		e, _ := Parse(sealOK(t, k, ChaCha20Poly1305, []byte("p"), nil))
		heads[string(e.Wrapped)]++
	}
	if n := m.wraps.Load(); n != 3 {
		t.Fatalf("%d wraps for 7 seals with 3 uses per DEK, want 3", n)
	}
	for w, n := range heads {
		if n > 3 {
			t.Errorf("DEK %x used %d times, want at most 3", w, n)
		}
	}
}

func TestZeroTTLUsesKMSPerItem(t *testing.T) {
	m := newTestKMS(t)
	k, _ := newTestKeys(m, 0)
	ctx := Context("t", "value")
	var envs [][]byte
	seen := map[string]bool{}
	for range 5 {
		env := sealOK(t, k, AES128GCM, []byte("p"), ctx)
		e, _ := Parse(env)
		if seen[string(e.Wrapped)] {
			t.Fatal("ttl 0 reused a DEK")
		}
		seen[string(e.Wrapped)] = true
		envs = append(envs, env)
	}
	for _, env := range append(envs, envs[0]) {
		openOK(t, k, env, ctx, []byte("p"))
	}
	if n, u := m.wraps.Load(), m.unwraps.Load(); n != 5 || u != 6 {
		t.Fatalf("ttl 0: %d wraps and %d unwraps for 5 seals and 6 opens, want 5 and 6", n, u)
	}
}

func TestConcurrentSealsWrapOnce(t *testing.T) {
	m := newTestKMS(t)
	m.wrapDelay = 20 * time.Millisecond
	k, _ := newTestKeys(m, time.Hour)
	ctx := Context("t", "value")
	start := make(chan struct{})
	envs := make([][]byte, 50)
	errs := make([]error, 50)
	var wg sync.WaitGroup
	for i := range envs {
		wg.Go(func() {
			<-start
			envs[i], errs[i] = k.Seal(context.Background(), testKeyID, XChaCha20Poly1305, []byte{byte(i)}, ctx)
		})
	}
	close(start)
	wg.Wait()
	if n := m.wraps.Load(); n != 1 {
		t.Fatalf("%d wraps for 50 concurrent seals, want 1", n)
	}
	for i, env := range envs {
		if errs[i] != nil {
			t.Fatalf("Seal %d: %v", i, errs[i])
		}
		openOK(t, k, env, ctx, []byte{byte(i)})
	}
}

func TestFailedWrapIsRemembered(t *testing.T) {
	m := newTestKMS(t)
	m.fail.Store(true)
	k, clock := newTestKeys(m, time.Hour)
	for i := range 3 {
		_, err := k.Seal(context.Background(), testKeyID, AES128GCM, []byte("p"), nil)
		if !errors.Is(err, errKMSDown) {
			t.Fatalf("Seal %d: error %v, want the KMS's", i, err)
		}
	}
	if n := m.wraps.Load(); n != 1 {
		t.Fatalf("%d wraps for 3 seals while the KMS fails, want 1", n)
	}
	clock.add(failureTTL - time.Nanosecond)
	if _, err := k.Seal(context.Background(), testKeyID, AES128GCM, []byte("p"), nil); err == nil || m.wraps.Load() != 1 {
		t.Fatalf("Seal just inside failureTTL: error %v after %d wraps, want an error after 1", err, m.wraps.Load())
	}
	clock.add(time.Nanosecond)
	if _, err := k.Seal(context.Background(), testKeyID, AES128GCM, []byte("p"), nil); err == nil || m.wraps.Load() != 2 {
		t.Fatalf("Seal after failureTTL: error %v after %d wraps, want an error after 2", err, m.wraps.Load())
	}
	m.fail.Store(false)
	clock.add(failureTTL)
	env := sealOK(t, k, AES128GCM, []byte("p"), nil)
	openOK(t, k, env, nil, []byte("p"))
	if n := m.wraps.Load(); n != 3 {
		t.Fatalf("%d wraps after the KMS recovered, want 3", n)
	}
}

func TestFailedResolveIsReported(t *testing.T) {
	errNoKMS := errors.New("no such kms")
	k := NewKeys(func(string) (KMS, string, error) { return nil, "", errNoKMS }, time.Hour)
	if _, err := k.Seal(context.Background(), testKeyID, AES128GCM, []byte("p"), nil); !errors.Is(err, errNoKMS) {
		t.Fatalf("Seal error = %v, want the resolver's", err)
	}
	env := build(AES128GCM, testKeyID, testWrapped, 40)
	if _, err := k.Open(context.Background(), env, nil); !errors.Is(err, errNoKMS) {
		t.Fatalf("Open error = %v, want the resolver's", err)
	}
}

func TestFailedUnwrapIsRemembered(t *testing.T) {
	for _, tt := range []struct {
		ttl         time.Duration
		wantUnwraps int32 // after the KMS recovers and two more opens
	}{{time.Hour, 2}, {0, 3}} {
		m := newTestKMS(t)
		sealer, _ := newTestKeys(m, tt.ttl)
		env := sealOK(t, sealer, AES128GCM, []byte("p"), nil)
		m.unwraps.Store(0)
		m.fail.Store(true)
		k, clock := newTestKeys(m, tt.ttl)
		for i := range 3 {
			if _, err := k.Open(context.Background(), env, nil); !errors.Is(err, errKMSDown) {
				t.Fatalf("ttl %v: Open %d: error %v, want the KMS's", tt.ttl, i, err)
			}
		}
		if n := m.unwraps.Load(); n != 1 {
			t.Fatalf("ttl %v: %d unwraps for 3 opens while the KMS fails, want 1", tt.ttl, n)
		}
		clock.add(failureTTL)
		m.fail.Store(false)
		openOK(t, k, env, nil, []byte("p"))
		openOK(t, k, env, nil, []byte("p"))
		if n := m.unwraps.Load(); n != tt.wantUnwraps {
			t.Fatalf("ttl %v: %d unwraps after failureTTL, want %d", tt.ttl, n, tt.wantUnwraps)
		}
	}
}

// TestEnvelopeHidesSecrets checks that no envelope holds its plaintext
// or any DEK in the clear.
func TestEnvelopeHidesSecrets(t *testing.T) {
	pt := []byte("0123456789abcdef-this-is-the-plaintext-of-the-record-0123456789")
	for alg := range algorithms {
		for _, ttl := range []time.Duration{0, time.Hour} {
			m := newTestKMS(t)
			k, _ := newTestKeys(m, ttl)
			var envs [][]byte
			for range 3 {
				envs = append(envs, sealOK(t, k, alg, pt, nil))
			}
			if len(m.deks) == 0 {
				t.Fatal("the KMS saw no DEK")
			}
			for _, env := range envs {
				if bytes.Contains(env, pt) {
					t.Fatalf("%s: envelope holds the plaintext", alg)
				}
				for _, dek := range m.deks {
					if len(dek) != alg.keyLen() {
						t.Fatalf("%s: DEK of %d bytes, want %d", alg, len(dek), alg.keyLen())
					}
					if bytes.Contains(env, dek) {
						t.Fatalf("%s: envelope holds the DEK", alg)
					}
				}
			}
		}
	}
}
