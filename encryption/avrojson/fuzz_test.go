package avrojson

import (
	"bytes"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
)

// FuzzRoundTrip checks that ToJSON then FromJSON gives back the bytes
// hamba wrote, and that ToJSON survives any body.
func FuzzRoundTrip(f *testing.F) {
	f.Add("a", int32(1), int64(-2), 0.5, []byte{1}, uint8(0), uint8(3), "k")
	f.Add("", int32(math.MinInt32), int64(math.MaxInt64), math.Inf(1), []byte(nil), uint8(1), uint8(0), "")
	s := avro.MustParse(testSchema)
	f.Fuzz(func(t *testing.T, str string, i int32, l int64, d float64, by []byte, sel, n uint8, key string) {
		if !utf8.ValidString(str) || !utf8.ValidString(key) || math.IsNaN(d) {
			return
		}
		a := make([]int, int(n)%150)
		for k := range a {
			a[k] = int(i) + k
		}
		var u any
		switch sel % 3 {
		case 1:
			u = map[string]any{"string": str}
		case 2:
			u = map[string]any{"long": l}
		}
		v := map[string]any{"s": str, "i": i, "l": l, "f": float32(d), "d": d, "b": sel%2 == 0, "by": by,
			"fx": [2]byte{sel, n}, "e": []string{"A", "B"}[sel%2], "u": u, "a": a, "m": map[string]any{key: str},
			"ts": l, "sub": map[string]any{"x": nil}}
		body, err := avro.Marshal(s, v)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := ToJSON(s, body)
		if err != nil {
			t.Fatal(err)
		}
		back, err := FromJSON(s, doc)
		if err != nil {
			t.Fatalf("FromJSON(%s): %v", doc, err)
		}
		if !bytes.Equal(back, body) {
			t.Fatalf("round trip of %s: %x, want %x", doc, back, body)
		}
		// Any body: no panic; what converts converts back.
		if doc, err := ToJSON(s, by); err == nil {
			if _, err := FromJSON(s, doc); err != nil {
				t.Fatalf("FromJSON(%s) of ToJSON output: %v", doc, err)
			}
		}
	})
}
