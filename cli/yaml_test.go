package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func yamlToJSON(t *testing.T, in string) (string, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(in), &n); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err := toJSON(&buf, &n)
	return buf.String(), err
}

func TestToJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"key order kept", "z: 1\na: 2\nm: 3", `{"z":1,"a":2,"m":3}`, ""},
		{"null, omitted and empty", "a: null\nb: ~\nc:\nd: ''", `{"a":null,"b":null,"c":null,"d":""}`, ""},
		{"number literals kept", "i: 100\nf: 1.50\ne: 1e3\nn: -0", `{"i":100,"f":1.50,"e":1e3,"n":-0}`, ""},
		{"YAML-only numbers converted", "hex: 0x1F\nsep: 1_000\noct: 0o17", `{"hex":31,"sep":1000,"oct":15}`, ""},
		{"quoted scalars stay strings", `a: "100"` + "\nb: 'true'\nc: \"null\"", `{"a":"100","b":"true","c":"null"}`, ""},
		{"booleans", "a: true\nb: False", `{"a":true,"b":false}`, ""},
		{"yes is a string in YAML 1.2", "a: yes", `{"a":"yes"}`, ""},
		{"timestamps as written", "d: 2001-12-14", `{"d":"2001-12-14"}`, ""},
		{"html characters unescaped", "a: x<y>&z", `{"a":"x<y>&z"}`, ""},
		{"block scalars", "a: |\n  one\n  two\n", `{"a":"one\ntwo\n"}`, ""},
		{"flow and nesting", "a: [1, {b: [c]}]\nd: {}\ne: []", `{"a":[1,{"b":["c"]}],"d":{},"e":[]}`, ""},
		{"aliases expanded", "a: &x {b: 1}\nc: *x", `{"a":{"b":1},"c":{"b":1}}`, ""},
		{"JSON input", `{"k": [1, 2.0, "s", null, true]}`, `{"k":[1,2.0,"s",null,true]}`, ""},
		{"duplicate key", "a: 1\nb: 2\na: 3", "", `line 3: key "a" appears twice`},
		{"mapping key", "? [a]\n: 1", "", "line 1: a mapping key must be a plain string"},
		{"infinity", "a: .inf", "", "line 1: .inf has no JSON form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := yamlToJSON(t, tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestYAMLRoundTrip checks that writeYAML's output converts back to the
// same JSON bytes, which is what makes a re-applied `get` NOT_CHANGED.
func TestYAMLRoundTrip(t *testing.T) {
	in := []string{
		`{"b":1,"a":{"z":[],"y":{},"x":null}}`,
		`{"s":["100","1.5","true","false","null","~","yes","no","0x1F","1e3","2001-12-14",""]}`,
		`{"n":[0,-0,1.50,1e3,1E-3,12345678901234567890]}`,
		`{"t":["a: b","#c","- d"," lead","trail ","multi\nline","multi\nline\n","tab\there","quote\"s","'single'","<&>","é😀","\u0001"]}`,
		`{"nested":[[1,[2]],[{"a":[{"b":null}]}]]}`,
		`{"":"empty key","key with: colon":1,"123":"numeric key","true":"bool key","null":"null key"}`,
	}
	var docs []json.RawMessage
	for _, d := range in {
		docs = append(docs, json.RawMessage(d))
	}
	var buf bytes.Buffer
	if err := writeYAML(&buf, docs); err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(&buf)
	for _, want := range in {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			t.Fatalf("reading back %s: %v", want, err)
		}
		var back bytes.Buffer
		if err := toJSON(&back, &n); err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if back.String() != want {
			t.Errorf("round trip changed the document\nin:  %s\nout: %s", want, back.String())
		}
	}
	var extra yaml.Node
	if dec.Decode(&extra) == nil {
		t.Errorf("more documents than written")
	}
}
