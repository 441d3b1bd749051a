package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

func TestPrintPaired(t *testing.T) {
	results := map[string][]float64{"a": {10, 20, 30}, "b": {5, 10, 10}}
	figures := []figure[float64]{
		{"ratio", func(r float64) float64 { return r }, true},
		{"difference", func(r float64) float64 { return r }, false},
	}
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	printPaired(results, []string{"a", "b"}, [][2]string{{"a", "b"}}, figures)
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	// Per-round ratios 2, 2, 3 → median 2; differences 5, 10, 20 → 10.
	for _, want := range []string{"20.00", "10.00", "2.000x", "+10.00 ms", "a/b"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
