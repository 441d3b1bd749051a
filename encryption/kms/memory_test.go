package kms

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestMemoryWrapUnwrap(t *testing.T) {
	ctx := context.Background()
	dek := bytes.Repeat([]byte{0x5A}, 32)
	w1, err := memory.Wrap(ctx, "memory-test-a", dek)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := memory.Wrap(ctx, "memory-test-a", dek)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(w1, dek) || bytes.Equal(w1, w2) {
		t.Fatal("wrapped DEK holds the DEK or repeats")
	}
	for _, w := range [][]byte{w1, w2} {
		got, err := memory.Unwrap(ctx, "memory-test-a", w)
		if err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("Unwrap = %x, %v; want %x", got, err, dek)
		}
	}
	// Another key id has another key, and the wrapped DEK is bound to its id.
	if _, err := memory.Unwrap(ctx, "memory-test-b", w1); err == nil {
		t.Fatal("another key id unwrapped the DEK")
	} else if !strings.HasPrefix(err.Error(), "kms: in-memory key memory-test-b") {
		t.Fatalf("Unwrap error %q", err)
	}
	bad := bytes.Clone(w1)
	bad[len(bad)-1] ^= 1
	if _, err := memory.Unwrap(ctx, "memory-test-a", bad); err == nil {
		t.Fatal("a tampered wrapped DEK unwrapped")
	}
	// Unwrapping first makes the key: a DEK wrapped nowhere still fails.
	if _, err := memory.Unwrap(ctx, "memory-test-fresh", w1); err == nil {
		t.Fatal("a fresh key id unwrapped the DEK")
	}
}

func FuzzMemoryUnwrap(f *testing.F) {
	w, err := memory.Wrap(context.Background(), "memory-fuzz", make([]byte, 16))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(w)
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		dek, err := memory.Unwrap(context.Background(), "memory-fuzz", b)
		if err == nil && !bytes.Equal(b, w) {
			t.Fatalf("forged input %x unwrapped to %x", b, dek)
		}
	})
}
