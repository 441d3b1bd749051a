package jsonfield

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/strait-gateway/strait/fieldpath"
)

// walk returns the values encoding/json finds at p in v (for duplicate
// keys only the last one, as map decoding keeps).
func walk(v any, p fieldpath.Path) []any {
	if len(p) == 0 {
		return []any{v}
	}
	var found []any
	switch x := v.(type) {
	case map[string]any:
		if e, ok := x[p[0].Name]; ok && p[0].Name != "" {
			found = walk(e, p[1:])
		}
	case []any:
		for k, e := range x {
			if p[0].Name == "" && (p[0].Index == fieldpath.All || p[0].Index == k) {
				found = append(found, walk(e, p[1:])...)
			}
		}
	}
	return found
}

func FuzzReplace(f *testing.F) {
	for _, c := range [][2]string{
		{`{"a":1,"b":{"c":[1,2,{"d":"x"}]}}`, "b.c[*].d"},
		{` [ {"n":1e5} , {"n":"\u00e9"} ] `, "[*].n"},
		{`{"k\u0065y":null,"key":true}`, "key"},
		{`{"a":[[],[{}]]}`, "a[1][0]"},
		{`{"a":1,}`, "a"},
		{`[1,2] x`, "[0]"},
		{`"\ud800"`, "a"},
		{`{"a":-0.0E-0}`, "a"},
	} {
		f.Add([]byte(c[0]), c[1])
	}
	f.Fuzz(func(t *testing.T, doc []byte, path string) {
		p, err := fieldpath.Parse(path)
		if err != nil {
			p = fieldpath.Path{{Name: "a"}}
		}
		orig := bytes.Clone(doc)
		valid := json.Valid(doc)
		var raws [][]byte
		same, err := Replace(doc, p, func(at string, raw []byte) ([]byte, error) {
			raws = append(raws, raw)
			return raw, nil
		})
		switch {
		case !valid && err == nil:
			t.Fatalf("invalid document accepted: %q", doc)
		case valid && err != nil && !errors.Is(err, ErrTooDeep):
			t.Fatalf("valid document rejected: %v", err)
		case err != nil:
			return
		case !bytes.Equal(same, doc):
			t.Fatalf("identity replacement changed %q into %q", doc, same)
		}
		for _, raw := range raws {
			if !json.Valid(raw) {
				t.Fatalf("fn got %q, not a JSON value", raw)
			}
		}
		nulled, err := Replace(doc, p, func(string, []byte) ([]byte, error) { return []byte("null"), nil })
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(nulled) {
			t.Fatalf("replacing by null gave invalid %q", nulled)
		}
		if !bytes.Equal(doc, orig) {
			t.Fatal("document modified")
		}
		var before, after any
		if json.Unmarshal(doc, &before) != nil || json.Unmarshal(nulled, &after) != nil {
			t.Fatal("encoding/json cannot decode a document it called valid")
		}
		if want := len(walk(before, p)); len(raws) < want {
			t.Fatalf("%d values found, encoding/json finds %d", len(raws), want)
		}
		for _, v := range walk(after, p) {
			if v != nil {
				t.Fatalf("value %v left at %s", v, p)
			}
		}
	})
}

func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"a\u00e9\n"`, `"\ud83d\ude00"`, `"\ud83d\u0041"`, "\"\xff\"", `"\q"`, `12`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want string
		werr := json.Unmarshal(raw, &want)
		got, ok := Unquote(raw)
		exact := len(raw) > 0 && raw[0] == '"' && raw[len(raw)-1] == '"'
		if ok && (werr != nil || got != want) || !ok && werr == nil && exact {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json %q, %v", raw, got, ok, want, werr)
		}
		// String matches encoding/json without HTML escaping.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(string(raw)); err != nil {
			t.Fatal(err)
		}
		enc2 := String(string(raw))
		if string(enc2) != strings.TrimSuffix(buf.String(), "\n") {
			t.Fatalf("String(%q) = %s, encoding/json %s", raw, enc2, buf.String())
		}
		var decoded string
		if err := json.Unmarshal(enc2, &decoded); err != nil {
			t.Fatalf("encoding/json cannot decode String(%q) = %s: %v", raw, enc2, err)
		}
		if back, ok := Unquote(enc2); !ok || back != decoded {
			t.Fatalf("Unquote(String(%q)) = %q, %v", raw, back, ok)
		}
	})
}
