package encryption

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// testKeyID and testWrapped fill the envelopes built by these tests.
const testKeyID = "in-memory-kms://orders"

var testWrapped = []byte("wrapped-data-key")

// build returns an envelope of alg whose ciphertext has ctLen bytes.
func build(alg Algorithm, keyID string, wrapped []byte, ctLen int) []byte {
	return append(appendHead(nil, alg, keyID, wrapped), bytes.Repeat([]byte{0xC7}, ctLen)...)
}

// raw returns magic, version and algorithm followed by rest, for
// envelopes appendHead cannot write.
func raw(version, alg byte, rest ...[]byte) []byte {
	b := append(magic[:len(magic):len(magic)], version, alg)
	for _, r := range rest {
		b = append(b, r...)
	}
	return b
}

func uvarint(n uint64) []byte { return binary.AppendUvarint(nil, n) }

func TestParseGood(t *testing.T) {
	for alg := range algorithms {
		t.Run(alg.String(), func(t *testing.T) {
			for _, ctLen := range []int{alg.overhead(), alg.overhead() + 100} {
				b := build(alg, testKeyID, testWrapped, ctLen)
				e, err := Parse(b)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if e.Algorithm != alg || e.KeyID != testKeyID || !bytes.Equal(e.Wrapped, testWrapped) {
					t.Errorf("Parse = %v %q %q, want %v %q %q", e.Algorithm, e.KeyID, e.Wrapped, alg, testKeyID, testWrapped)
				}
				if len(e.Ciphertext) != ctLen || !bytes.Equal(e.Ciphertext, b[len(b)-ctLen:]) {
					t.Errorf("ciphertext has %d bytes, want the last %d of the input", len(e.Ciphertext), ctLen)
				}
				if !bytes.Equal(e.head, b[:len(b)-ctLen]) {
					t.Errorf("head = %x, want %x", e.head, b[:len(b)-ctLen])
				}
				if !IsEnvelope(b) {
					t.Error("IsEnvelope = false")
				}
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	key := []byte(testKeyID)
	longKey := bytes.Repeat([]byte{'k'}, maxKeyID+1)
	longWrapped := bytes.Repeat([]byte{'w'}, maxWrapped+1)
	tag := make([]byte, 28)
	tests := []struct {
		name string
		in   []byte
		want string // substring of the error; "" means ErrNotEnvelope
	}{
		{"nil", nil, ""},
		{"magic only", magic[:], ""},
		{"wrong first byte", append([]byte{0xFE, 'S', 'E'}, build(AES128GCM, testKeyID, testWrapped, 28)[3:]...), ""},
		{"wrong magic", append([]byte{0xFF, 'S', 'F'}, build(AES128GCM, testKeyID, testWrapped, 28)[3:]...), ""},
		{"json", []byte(`{"a":1}`), ""},
		{"confluent framed", []byte{0, 0, 0, 0, 1, 2, 3}, ""},
		{"version 0", raw(0, 1, uvarint(1), []byte("k"), uvarint(1), []byte("w"), tag), "version 0 is not supported"},
		{"version 2", raw(2, 1, uvarint(1), []byte("k"), uvarint(1), []byte("w"), tag), "version 2 is not supported"},
		{"cut after version", append(magic[:len(magic):len(magic)], Version), "cut short"},
		{"algorithm 0", raw(Version, 0, uvarint(1), []byte("k"), uvarint(1), []byte("w"), tag), "unknown algorithm 0"},
		{"algorithm 5", raw(Version, 5, uvarint(1), []byte("k"), uvarint(1), []byte("w"), tag), "unknown algorithm 5"},
		{"algorithm 255", raw(Version, 255, uvarint(1), []byte("k"), uvarint(1), []byte("w"), tag), "unknown algorithm 255"},
		{"no key id length", raw(Version, 1), "key id length is malformed"},
		{"key id length overflows uint64", raw(Version, 1, bytes.Repeat([]byte{0xFF}, 10), []byte{1}), "key id length is malformed"},
		{"key id length unterminated", raw(Version, 1, []byte{0x80, 0x80}), "key id length is malformed"},
		{"key id longer than data", raw(Version, 1, uvarint(uint64(len(key)+1)), key), "key id length 23 exceeds"},
		{"key id huge", raw(Version, 1, uvarint(1<<62), key), "key id length 4611686018427387904 exceeds"},
		{"key id above limit", raw(Version, 1, uvarint(maxKeyID+1), longKey, uvarint(1), []byte("w"), tag), "key id length 4097 exceeds"},
		{"no wrapped length", raw(Version, 1, uvarint(uint64(len(key))), key), "wrapped key length is malformed"},
		{"wrapped longer than data", raw(Version, 1, uvarint(uint64(len(key))), key, uvarint(100), tag), "wrapped key length 100 exceeds"},
		{"wrapped above limit", raw(Version, 1, uvarint(uint64(len(key))), key, uvarint(maxWrapped+1), longWrapped, tag), "wrapped key length 8193 exceeds"},
		{"empty wrapped key", raw(Version, 1, uvarint(uint64(len(key))), key, uvarint(0), tag), "empty wrapped key"},
		{"no ciphertext", appendHead(nil, AES128GCM, testKeyID, testWrapped), "ciphertext of 0 bytes"},
		{"AES128 ciphertext short", build(AES128GCM, testKeyID, testWrapped, 27), "ciphertext of 27 bytes is shorter than AES128_GCM"},
		{"AES256 ciphertext short", build(AES256GCM, testKeyID, testWrapped, 27), "shorter than AES256_GCM"},
		{"ChaCha ciphertext short", build(ChaCha20Poly1305, testKeyID, testWrapped, 27), "shorter than CHACHA20_POLY1305"},
		{"XChaCha ciphertext short", build(XChaCha20Poly1305, testKeyID, testWrapped, 39), "ciphertext of 39 bytes is shorter than XCHACHA20_POLY1305"},
		// Lengths must be minimal varints, so one envelope has one encoding.
		{"key id length not minimal", raw(Version, 1, []byte{0x81, 0x00}, []byte("k"), uvarint(1), []byte("w"), tag), "key id length"},
		{"wrapped length not minimal", raw(Version, 1, uvarint(1), []byte("k"), []byte{0x81, 0x80, 0x00}, []byte("w"), tag), "wrapped key length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			switch {
			case err == nil:
				t.Fatalf("Parse = %+v, want an error", e)
			case tt.want == "" && !errors.Is(err, ErrNotEnvelope):
				t.Fatalf("Parse error = %v, want ErrNotEnvelope", err)
			case tt.want != "" && errors.Is(err, ErrNotEnvelope):
				t.Fatalf("Parse error = ErrNotEnvelope, want %q", tt.want)
			case !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			case !strings.HasPrefix(err.Error(), "encryption: "):
				t.Fatalf("Parse error %q lacks the component prefix", err)
			}
		})
	}
}

// TestParseTruncated cuts a minimal envelope of each algorithm at every
// byte: every strict prefix must be refused.
func TestParseTruncated(t *testing.T) {
	for alg := range algorithms {
		b := build(alg, testKeyID, testWrapped, alg.overhead())
		if _, err := Parse(b); err != nil {
			t.Fatalf("%s: whole envelope: %v", alg, err)
		}
		for n := range len(b) {
			e, err := Parse(b[:n])
			if err == nil {
				t.Fatalf("%s: Parse of the first %d of %d bytes = %+v, want an error", alg, n, len(b), e)
			}
			if notEnv := errors.Is(err, ErrNotEnvelope); notEnv != (n <= len(magic)) {
				t.Errorf("%s: %d bytes: error %v", alg, n, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for alg := range algorithms {
		f.Add(build(alg, testKeyID, testWrapped, alg.overhead()))
		f.Add(build(alg, "", []byte{1}, alg.overhead()+3))
	}
	f.Add(raw(Version, 1, []byte{0x81, 0x00}, []byte("k"), uvarint(1), []byte("w"), make([]byte, 28)))
	f.Add(raw(2, 1))
	f.Add([]byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err != nil {
			return
		}
		head := appendHead(nil, e.Algorithm, e.KeyID, e.Wrapped)
		if !bytes.Equal(e.head, head) {
			t.Fatalf("parsed head %x re-encodes as %x", e.head, head)
		}
		if again := append(head, e.Ciphertext...); !bytes.Equal(again, b) {
			t.Fatalf("envelope %x re-encodes as %x", b, again)
		}
		if len(e.Wrapped) == 0 || len(e.Ciphertext) < e.Algorithm.overhead() || !e.Algorithm.valid() {
			t.Fatalf("Parse accepted %+v", e)
		}
	})
}

func TestContext(t *testing.T) {
	// The separator keeps topic and location apart: ("a", "bc") and
	// ("ab", "c") must differ.
	if bytes.Equal(Context("a", "bc"), Context("ab", "c")) {
		t.Error(`Context("a", "bc") == Context("ab", "c")`)
	}
	if got, want := Context("orders", "value"), []byte("orders\x00value"); !bytes.Equal(got, want) {
		t.Errorf("Context = %q, want %q", got, want)
	}
}
