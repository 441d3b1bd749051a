package keystore

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/store"
)

const topic = "_strait_test_keys"

var _ encryption.KeyStore = (*Store)(nil)

func newCluster(t *testing.T) (*kfake.Cluster, []kgo.Opt) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
}

func open(t *testing.T, opts []kgo.Opt) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, opts, store.Config{Topic: topic, Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, s *Store, keyID, wrapped string) []byte {
	t.Helper()
	ref, err := s.Put(timeout(t), keyID, []byte(wrapped))
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) != 16 {
		t.Fatalf("ref of %d bytes", len(ref))
	}
	return ref
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPutGet(t *testing.T) {
	_, opts := newCluster(t)
	s := open(t, opts)
	a1, a2, b := put(t, s, "a", "wrapped-a1"), put(t, s, "a", "wrapped-a2"), put(t, s, "b", "wrapped-b")
	if bytes.Equal(a1, a2) {
		t.Fatal("two puts of one key id gave one ref")
	}
	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	tests := []struct {
		keyID   string
		ref     []byte
		want    string
		wantErr string
	}{
		{"a", a1, "wrapped-a1", ""},
		{"a", a2, "wrapped-a2", ""},
		{"b", b, "wrapped-b", ""},
		{"b", a1, "", "no data key b/"},
		{"a", a1[:8], "", "8 bytes, want 16"},
	}
	for _, tt := range tests {
		got, err := s.Get(short, tt.keyID, tt.ref)
		switch {
		case tt.wantErr == "" && (err != nil || string(got) != tt.want):
			t.Errorf("Get(%s, %x) = %q, %v; want %q", tt.keyID, tt.ref, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Get(%s, %x) error %v, want %q", tt.keyID, tt.ref, err, tt.wantErr)
		}
		if s.Revoked(tt.keyID, tt.ref) {
			t.Errorf("Revoked(%s, %x) before any shredding", tt.keyID, tt.ref)
		}
	}
	if _, err := s.Put(short, "", []byte("x")); err == nil {
		t.Error("Put with an empty key id succeeded")
	}
}

// TestRebuildAndFollow: a store opened later reads what was written
// before, and a running store sees another's writes.
func TestRebuildAndFollow(t *testing.T) {
	_, opts := newCluster(t)
	first := open(t, opts)
	ref := put(t, first, "a", "wrapped-a")
	second := open(t, opts)
	if _, ok, _ := second.lookup(id{"a", [16]byte(ref)}); !ok {
		t.Fatal("a store opened after a Put does not hold its key")
	}
	live := put(t, first, "b", "wrapped-b")
	eventually(t, "the second store reads the first's new key", func() bool {
		_, ok, _ := second.lookup(id{"b", [16]byte(live)})
		return ok
	})
	if got, err := second.Get(timeout(t), "b", live); err != nil || string(got) != "wrapped-b" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestShred(t *testing.T) {
	c, opts := newCluster(t)
	s, other := open(t, opts), open(t, opts)
	a1, a2, b := put(t, s, "a", "wrapped-a1"), put(t, s, "a", "wrapped-a2"), put(t, s, "b", "wrapped-b")
	n, err := s.Shred(timeout(t), "a")
	if err != nil || n != 2 {
		t.Fatalf("Shred = %d, %v; want 2", n, err)
	}
	eventually(t, "the other store reads the tombstones", func() bool { return other.Revoked("a", a1) && other.Revoked("a", a2) })
	c.Compact()
	late := open(t, opts) // rebuilds from the compacted topic
	for _, st := range []*Store{s, other, late} {
		for _, ref := range [][]byte{a1, a2} {
			if _, err := st.Get(timeout(t), "a", ref); err == nil || !strings.Contains(err.Error(), "crypto-shredded") {
				t.Errorf("Get of a shredded key: %v", err)
			}
			if !st.Revoked("a", ref) {
				t.Error("a shredded key is not revoked")
			}
		}
		if got, err := st.Get(timeout(t), "b", b); err != nil || string(got) != "wrapped-b" || st.Revoked("b", b) {
			t.Errorf("Get of another key = %q, %v", got, err)
		}
	}
	if n, err := s.Shred(timeout(t), "a"); err != nil || n != 0 {
		t.Errorf("second Shred = %d, %v; want 0", n, err)
	}
	// A new key for a shredded key id is a new data key.
	fresh := put(t, s, "a", "wrapped-a3")
	if got, err := s.Get(timeout(t), "a", fresh); err != nil || string(got) != "wrapped-a3" {
		t.Errorf("Get of a new key = %q, %v", got, err)
	}
}

// TestGetWaitsForCatchUp: with the node's reads held back, Get of a key
// another node has just written waits for the node to read it.
func TestGetWaitsForCatchUp(t *testing.T) {
	c, opts := newCluster(t)
	s := open(t, opts)
	var paused atomic.Bool
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if paused.Load() {
			c.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	paused.Store(true)
	time.Sleep(600 * time.Millisecond) // fetches already waiting (200 ms at most) end

	// Another node writes a key.
	writer, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	u := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	k, _ := json.Marshal(recordKey{KeyID: "k", UUID: formatUUID(u)})
	v, _ := json.Marshal(value{Wrapped: []byte("wrapped-k")})
	if err := writer.ProduceSync(timeout(t), &kgo.Record{Topic: topic, Key: k, Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	type result struct {
		wrapped []byte
		err     error
	}
	done := make(chan result, 1)
	go func() {
		w, err := s.Get(timeout(t), "k", u[:])
		done <- result{w, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("Get answered %q, %v while the node could not read the key", r.wrapped, r.err)
	case <-time.After(500 * time.Millisecond):
	}
	paused.Store(false)
	close(release)
	if r := <-done; r.err != nil || string(r.wrapped) != "wrapped-k" {
		t.Fatalf("Get after catching up = %q, %v", r.wrapped, r.err)
	}

	// A key nobody wrote is reported once the node has caught up.
	if _, err := s.Get(timeout(t), "k", make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "no data key") {
		t.Fatalf("Get of an unknown key: %v", err)
	}
}

func TestParseUUID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"0f6c1e2a-3b4c-4d5e-8f60-718293a4b5c6", true},
		{"0F6C1E2A-3B4C-4D5E-8F60-718293A4B5C6", true},
		{"0f6c1e2a3b4c4d5e8f60718293a4b5c6", false},
		{"0f6c1e2a-3b4c-4d5e-8f60-718293a4b5cz", false},
		{"", false},
	}
	for _, tt := range tests {
		u, err := parseUUID(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseUUID(%q) error %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err == nil && formatUUID(u) != strings.ToLower(tt.in) {
			t.Errorf("parseUUID(%q) formats back as %s", tt.in, formatUUID(u))
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"keyId":"a","uuid":"0f6c1e2a-3b4c-4d5e-8f60-718293a4b5c6"}`), []byte(`{"wrapped":"AAEC"}`))
	f.Add([]byte(`{"keyId":""}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		val, err := decode(k, v)
		if err != nil {
			return
		}
		key, err := parseKey(k)
		if err != nil || key.keyID == "" || len(val.Wrapped) == 0 {
			t.Fatalf("decode accepted %q %q: key %v, %v", k, v, key, err)
		}
		back, _ := json.Marshal(recordKey{KeyID: key.keyID, UUID: formatUUID(key.uuid)})
		if again, err := parseKey(back); err != nil || again != key {
			t.Fatalf("key %q does not round-trip: %q, %v", k, back, err)
		}
	})
}
