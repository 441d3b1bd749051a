package jsonfield

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/strait-gateway/strait/fieldpath"
)

// mark replaces each found value by the JSON string "<at>=<raw>" and
// records the calls.
func mark(calls *[]string) func(string, []byte) ([]byte, error) {
	return func(at string, raw []byte) ([]byte, error) {
		*calls = append(*calls, at+"="+string(raw))
		return String("X" + at), nil
	}
}

func TestReplace(t *testing.T) {
	for _, c := range []struct {
		name, doc, path string
		calls           []string
		want            string // "" means doc unchanged
	}{
		{name: "top-level field", doc: `{"a":1,"b":2}`, path: "b",
			calls: []string{"b=2"}, want: `{"a":1,"b":"Xb"}`},
		{name: "nested objects", doc: `{"a":{"b":{"c":"deep"},"c":0}}`, path: "a.b.c",
			calls: []string{`a.b.c="deep"`}, want: `{"a":{"b":{"c":"Xa.b.c"},"c":0}}`},
		{name: "object value whole", doc: `{"a":{"x":[1, 2]} ,"b":3}`, path: "a",
			calls: []string{`a={"x":[1, 2]}`}, want: `{"a":"Xa" ,"b":3}`},
		{name: "array value whole", doc: `{"a":[ 1 , [2] ]}`, path: "a",
			calls: []string{`a=[ 1 , [2] ]`}, want: `{"a":"Xa"}`},
		{name: "all elements", doc: `{"items":[{"card":"1"},{"x":0},{"card":"3"}]}`, path: "items[*].card",
			calls: []string{`items[0].card="1"`, `items[2].card="3"`},
			want:  `{"items":[{"card":"Xitems[0].card"},{"x":0},{"card":"Xitems[2].card"}]}`},
		{name: "one index", doc: `{"a":[10,11,12]}`, path: "a[1]",
			calls: []string{"a[1]=11"}, want: `{"a":[10,"Xa[1]",12]}`},
		{name: "index out of range", doc: `{"a":[10,11,12]}`, path: "a[3]"},
		{name: "index into empty array", doc: `{"a":[]}`, path: "a[0]"},
		{name: "nested all", doc: `[[1,2],[3]]`, path: "[*][*]",
			calls: []string{"[0][0]=1", "[0][1]=2", "[1][0]=3"},
			want:  `[["X[0][0]","X[0][1]"],["X[1][0]"]]`},
		{name: "top-level array", doc: ` [ {"n":1} , {"n":2} ] `, path: "[1].n",
			calls: []string{"[1].n=2"}, want: ` [ {"n":1} , {"n":"X[1].n"} ] `},
		{name: "name step against array", doc: `{"a":[{"b":1}]}`, path: "a.b"},
		{name: "index step against object", doc: `{"a":{"0":1}}`, path: "a[0]"},
		{name: "path into scalar", doc: `{"a":"str"}`, path: "a.b"},
		{name: "missing key", doc: `{"a":1}`, path: "z"},
		{name: "escaped key", doc: `{"c\u0061rd":1,"card":2,"ca\"rd":3}`, path: "card",
			calls: []string{"card=1", "card=2"}, want: `{"c\u0061rd":"Xcard","card":"Xcard","ca\"rd":3}`},
		{name: "unicode key and value", doc: `{"clé":"vålue ☃","k\u00e9y":"\ud83d\ude00"}`, path: "clé",
			calls: []string{`clé="vålue ☃"`}, want: `{"clé":"Xclé","k\u00e9y":"\ud83d\ude00"}`},
		{name: "escaped unicode key", doc: `{"k\u00e9y":"\ud83d\ude00"}`, path: "kéy",
			calls: []string{`kéy="\ud83d\ude00"`}, want: `{"k\u00e9y":"Xkéy"}`},
		{name: "numbers with exponents", doc: `{"a":-1.5E+10,"b":0e-0,"c":12.0e3}`, path: "b",
			calls: []string{"b=0e-0"}, want: `{"a":-1.5E+10,"b":"Xb","c":12.0e3}`},
		{name: "whitespace everywhere", doc: " \t\r\n{ \"a\" \n:\t[ 1 ,\r\n\"x\" ] , \"b\" : { } }\n ", path: "a[1]",
			calls: []string{`a[1]="x"`}, want: " \t\r\n{ \"a\" \n:\t[ 1 ,\r\n\"Xa[1]\" ] , \"b\" : { } }\n "},
		{name: "null value", doc: `{"a":null,"b":true,"c":false}`, path: "a",
			calls: []string{"a=null"}, want: `{"a":"Xa","b":true,"c":false}`},
		{name: "duplicate keys", doc: `{"a":1,"a":{"b":2},"a":3}`, path: "a",
			calls: []string{"a=1", `a={"b":2}`, "a=3"}, want: `{"a":"Xa","a":"Xa","a":"Xa"}`},
		{name: "scalar document", doc: ` 42 `, path: "a"},
		{name: "key lookalike inside string", doc: `{"s":"\"a\":1","a":2}`, path: "a",
			calls: []string{"a=2"}, want: `{"s":"\"a\":1","a":"Xa"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := fieldpath.Parse(c.path)
			if err != nil {
				t.Fatal(err)
			}
			doc := []byte(c.doc)
			var calls []string
			got, err := Replace(doc, p, mark(&calls))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(calls, "\n") != strings.Join(c.calls, "\n") {
				t.Errorf("calls %q, want %q", calls, c.calls)
			}
			want := c.want
			if want == "" {
				want = c.doc
				if len(got) > 0 && &got[0] != &doc[0] {
					t.Error("unchanged document was copied")
				}
			}
			if string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if string(doc) != c.doc {
				t.Errorf("input modified to %s", doc)
			}
		})
	}
}

func TestReplaceEmptyPath(t *testing.T) {
	got, err := Replace([]byte(" [1] \n"), nil, func(at string, raw []byte) ([]byte, error) {
		if at != "" || string(raw) != "[1]" {
			t.Errorf("called with %q %q", at, raw)
		}
		return []byte("null"), nil
	})
	if err != nil || string(got) != " null \n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestReplaceLongPath(t *testing.T) {
	const n = 20
	doc := strings.Repeat("[", n) + "1" + strings.Repeat("]", n)
	p := make(fieldpath.Path, n)
	for k := range p {
		p[k].Index = fieldpath.All
	}
	var at string
	got, err := Replace([]byte(doc), p, func(a string, raw []byte) ([]byte, error) {
		at = a
		return []byte("2"), nil
	})
	if err != nil || string(got) != strings.Replace(doc, "1", "2", 1) || at != strings.Repeat("[0]", n) {
		t.Fatalf("got %s at %q, %v", got, at, err)
	}
}

func TestReplaceLengths(t *testing.T) {
	doc := `{"a" : "mid" , "list":[ "x", {"k":"v"} ,7] ,"z":"end"}`
	for _, rep := range []string{`""`, `0`, `"` + strings.Repeat("long", 100) + `"`, `{"n":[1,2,{}]}`} {
		var calls []string
		got, err := Replace([]byte(doc), fieldpath.Path{{Name: "list"}, {Index: fieldpath.All}}, func(at string, raw []byte) ([]byte, error) {
			calls = append(calls, string(raw))
			return []byte(rep), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"a" : "mid" , "list":[ ` + rep + `, ` + rep + ` ,` + rep + `] ,"z":"end"}`
		if string(got) != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		// Putting the original values back restores the document exactly.
		k := 0
		back, err := Replace(got, fieldpath.Path{{Name: "list"}, {Index: fieldpath.All}}, func(string, []byte) ([]byte, error) {
			k++
			return []byte(calls[k-1]), nil
		})
		if err != nil || string(back) != doc {
			t.Errorf("round trip gave %s, %v", back, err)
		}
	}
}

func TestReplaceErrors(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	atLimit := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	for _, c := range []struct {
		name, doc, path, rep, want string
	}{
		{name: "empty", doc: "", path: "a", want: "end of JSON at offset 0"},
		{name: "only space", doc: "  ", path: "a", want: "end of JSON at offset 2"},
		{name: "truncated object", doc: `{"a":1`, path: "a", want: "end of JSON at offset 6"},
		{name: "truncated string", doc: `{"a":"x`, path: "b", want: "end of JSON at offset 7"},
		{name: "truncated literal", doc: `{"a":tru`, path: "a", want: "end of JSON at offset 8"},
		{name: "bad literal", doc: `{"a":nul}`, path: "b", want: "offset 8"},
		{name: "bad token", doc: `{"a":@}`, path: "b", want: "invalid character at offset 5"},
		{name: "single quotes", doc: `{'a':1}`, path: "b", want: "offset 1"},
		{name: "trailing comma", doc: `[1,]`, path: "b", want: "offset 3"},
		{name: "missing colon", doc: `{"a" 1}`, path: "a", want: "offset 5"},
		{name: "leading zero", doc: `{"a":01}`, path: "b", want: "offset 6"},
		{name: "bare minus", doc: `[-]`, path: "b", want: "offset 2"},
		{name: "bad fraction", doc: `[1.]`, path: "b", want: "offset 3"},
		{name: "bad exponent", doc: `[1e+]`, path: "b", want: "offset 4"},
		{name: "control char in string", doc: "[\"a\tb\"]", path: "b", want: "offset 3"},
		{name: "bad escape", doc: `["\x"]`, path: "b", want: "offset 3"},
		{name: "short unicode escape", doc: `["\u12"]`, path: "b", want: "offset 6"},
		{name: "trailing garbage", doc: `{"a":1} x`, path: "a", want: "after the JSON value at offset 8"},
		{name: "two documents", doc: `1 2`, path: "a", want: "offset 2"},
		{name: "error after a match", doc: `{"a":1,}`, path: "a", rep: "2", want: "offset 7"},
		{name: "too deep", doc: deep, path: "a", want: "offset 1000"},
		{name: "invalid replacement", doc: `{"a":1}`, path: "a", rep: `{"x"}`, want: "replacement for a is not valid JSON"},
		{name: "blank replacement", doc: `{"a":1}`, path: "a", rep: ` `, want: "replacement for a is not valid JSON"},
		{name: "two values replacement", doc: `{"a":1}`, path: "a", rep: `1 2`, want: "replacement for a is not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := fieldpath.Parse(c.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Replace([]byte(c.doc), p, func(_ string, raw []byte) ([]byte, error) {
				if c.rep == "" {
					return raw, nil
				}
				return []byte(c.rep), nil
			})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "jsonfield: ") {
				t.Fatalf("got %q, %v; want an error containing %q", got, err, c.want)
			}
		})
	}
	if _, err := Replace([]byte(deep), fieldpath.Path{{Name: "a"}}, nil); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep document: %v, want ErrTooDeep", err)
	}
	if _, err := Replace([]byte(atLimit), fieldpath.Path{{Name: "a"}}, nil); err != nil {
		t.Errorf("document at the depth limit: %v", err)
	}
	// A replacement may not take the document past the limit either.
	inner := strings.Repeat("[", MaxDepth-1) + "0" + strings.Repeat("]", MaxDepth-1)
	innerPath := make(fieldpath.Path, MaxDepth-1)
	for _, c := range []struct {
		rep string
		ok  bool
	}{{"[]", true}, {"[[]]", false}} {
		_, err := Replace([]byte(inner), innerPath, func(string, []byte) ([]byte, error) { return []byte(c.rep), nil })
		if c.ok != (err == nil) || !c.ok && !errors.Is(err, ErrTooDeep) {
			t.Errorf("replacing the innermost value by %s: %v", c.rep, err)
		}
	}
	// Far beyond the limit: an error, not a stack overflow.
	huge := strings.Repeat(`{"a":`, 1_000_000)
	if _, err := Replace([]byte(huge), fieldpath.Path{{Name: "a"}}, nil); !errors.Is(err, ErrTooDeep) {
		t.Errorf("huge nesting: %v, want ErrTooDeep", err)
	}
}

func TestReplaceFnError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Replace([]byte(`{"a":[0,1]}`), fieldpath.Path{{Name: "a"}, {Index: 1}}, func(string, []byte) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "a[1]") {
		t.Fatalf("got %v, want boom wrapped with the path", err)
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"":                   `""`,
		"plain <&>":          `"plain <&>"`,
		"q\"b\\s/":           `"q\"b\\s/"`,
		"\b\f\n\r\t\x00\x1f": `"\b\f\n\r\t\u0000\u001f"`,
		"é☃😀":                `"é☃😀"`,
		"bad\xffutf8":        `"bad\ufffdutf8"`,
		"sep\u2028\u2029":    `"sep\u2028\u2029"`,
	} {
		got := String(in)
		if string(got) != want {
			t.Errorf("String(%q) = %s, want %s", in, got, want)
		}
		back, ok := Unquote(got)
		if !ok || (back != in && !strings.Contains(in, "\xff")) {
			t.Errorf("Unquote(%s) = %q, %v", got, back, ok)
		}
	}
}

func TestUnquote(t *testing.T) {
	for _, c := range []struct {
		raw, want string
		ok        bool
	}{
		{raw: `"abc"`, want: "abc", ok: true},
		{raw: `"a\u00e9\n\/"`, want: "aé\n/", ok: true},
		{raw: `"\ud83d\ude00"`, want: "😀", ok: true},
		{raw: `"\ud83d"`, want: "\ufffd", ok: true},
		{raw: `"\ud83dx"`, want: "\ufffdx", ok: true},
		{raw: `"\ud83d\u0041"`, want: "\ufffdA", ok: true},
		{raw: "\"\xff\"", want: "\ufffd", ok: true},
		{raw: `12`},
		{raw: `"abc`},
		{raw: `"a"b"`},
		{raw: `"\q"`},
		{raw: `"\u12"`},
		{raw: `"\"`},
		{raw: "\"\n\""},
	} {
		got, ok := Unquote([]byte(c.raw))
		if ok != c.ok || ok && got != c.want {
			t.Errorf("Unquote(%s) = %q, %v; want %q, %v", c.raw, got, ok, c.want, c.ok)
		}
	}
}

func TestReplaceReturnsSameSlice(t *testing.T) {
	doc := []byte(`{"a":1}`)
	got, err := Replace(doc, fieldpath.Path{{Name: "b"}}, nil)
	if err != nil || !bytes.Equal(got, doc) || &got[0] != &doc[0] {
		t.Fatalf("got %s, %v; want doc itself", got, err)
	}
}
