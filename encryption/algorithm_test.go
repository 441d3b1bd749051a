package encryption

import (
	"strings"
	"testing"
)

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want Algorithm
		err  bool
	}{
		{"", AES128GCM, false},
		{"  ", AES128GCM, false},
		{"AES_GCM", AES128GCM, false},
		{"aes_gcm", AES128GCM, false},
		{"AES128_GCM", AES128GCM, false},
		{"aes128_gcm", AES128GCM, false},
		{"AES256_GCM", AES256GCM, false},
		{"Aes256_Gcm", AES256GCM, false},
		{"CHACHA20_POLY1305", ChaCha20Poly1305, false},
		{" chacha20_poly1305 ", ChaCha20Poly1305, false},
		{"XCHACHA20_POLY1305", XChaCha20Poly1305, false},
		{"xchacha20_poly1305", XChaCha20Poly1305, false},
		{"AES192_GCM", 0, true},
		{"AES128-GCM", 0, true},
		{"AES", 0, true},
		{"algorithm(1)", 0, true},
		{"1", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseAlgorithm(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("ParseAlgorithm(%q) = %v, want an error", tt.in, got)
			} else if !strings.Contains(err.Error(), "AES128_GCM, AES256_GCM, CHACHA20_POLY1305 or XCHACHA20_POLY1305") {
				t.Errorf("ParseAlgorithm(%q) error %q does not list the algorithms", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestAlgorithmText(t *testing.T) {
	if len(algorithms) != 4 {
		t.Fatalf("%d algorithms, want 4", len(algorithms))
	}
	for alg, d := range algorithms {
		b, err := alg.MarshalText()
		if err != nil || string(b) != d.name || alg.String() != d.name {
			t.Errorf("%d: MarshalText = %q, %v; String = %q; want %q", byte(alg), b, err, alg.String(), d.name)
		}
		var back Algorithm
		if err := back.UnmarshalText(b); err != nil || back != alg {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, back, err, alg)
		}
	}
	if got := Algorithm(9).String(); got != "algorithm(9)" {
		t.Errorf("Algorithm(9).String() = %q", got)
	}
	back := AES256GCM
	if err := back.UnmarshalText([]byte("rot13")); err == nil || back != AES256GCM {
		t.Errorf("UnmarshalText(rot13) = %v, left %v; want an error and no change", err, back)
	}
}

// TestAlgorithmKeyLength checks that each cipher takes exactly its key
// length and its real overhead matches the one Parse checks.
func TestAlgorithmKeyLength(t *testing.T) {
	for alg := range algorithms {
		for _, n := range []int{0, 16, 24, 32, 64} {
			a, err := alg.aead(make([]byte, n))
			if (err == nil) != (n == alg.keyLen()) {
				t.Fatalf("%s.aead(%d-byte key): %v", alg, n, err)
			}
			if err != nil {
				continue
			}
			if got := a.NonceSize() + a.Overhead(); got != alg.overhead() {
				t.Fatalf("%s: nonce and tag take %d bytes, Parse expects %d", alg, got, alg.overhead())
			}
		}
	}
	if _, err := Algorithm(0).aead(nil); err == nil {
		t.Error("Algorithm(0).aead: no error")
	}
}
