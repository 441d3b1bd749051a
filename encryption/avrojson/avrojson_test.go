package avrojson

import (
	"bytes"
	"math"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/strait-gateway/strait/fieldpath"
)

const testSchema = `{"type":"record","name":"R","fields":[
	{"name":"s","type":"string"},
	{"name":"i","type":"int"},
	{"name":"l","type":"long"},
	{"name":"f","type":"float"},
	{"name":"d","type":"double"},
	{"name":"b","type":"boolean"},
	{"name":"by","type":"bytes"},
	{"name":"fx","type":{"type":"fixed","name":"F2","size":2}},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
	{"name":"u","type":["null","string","long"]},
	{"name":"a","type":{"type":"array","items":"int"}},
	{"name":"m","type":{"type":"map","values":"string"}},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"sub","type":{"type":"record","name":"Sub","fields":[{"name":"x","type":["null","Sub"]}]}}]}`

func TestToJSON(t *testing.T) {
	s := avro.MustParse(testSchema)
	for _, c := range []struct {
		name  string
		value map[string]any
		json  string
	}{
		{"values", map[string]any{"s": "a\"\n", "i": -5, "l": int64(math.MaxInt64), "f": float32(1.5), "d": 0.1, "b": true,
			"by": []byte{1, 2}, "fx": [2]byte{0xff, 0}, "e": "B", "u": map[string]any{"long": int64(9007199254740993)},
			"a": []int{1, 2}, "m": map[string]any{"z": "1", "a": "2"}, "ts": int64(1700000000000),
			"sub": map[string]any{"x": map[string]any{"Sub": map[string]any{"x": nil}}}},
			`{"s":"a\"\u000a","i":-5,"l":9223372036854775807,"f":1.5,"d":0.1,"b":true,"by":"AQI=","fx":"/wA=","e":"B","u":9007199254740993,"a":[1,2],"m":{"a":"2","z":"1"},"ts":1700000000000,"sub":{"x":{"x":null}}}`},
		{"empty", map[string]any{"s": "", "i": 0, "l": int64(0), "f": float32(math.Inf(-1)), "d": math.NaN(), "b": false,
			"by": []byte{}, "fx": [2]byte{}, "e": "A", "u": nil, "a": []int{}, "m": map[string]any{}, "ts": int64(0),
			"sub": map[string]any{"x": nil}},
			`{"s":"","i":0,"l":0,"f":"-Infinity","d":"NaN","b":false,"by":"","fx":"AAA=","e":"A","u":null,"a":[],"m":{},"ts":0,"sub":{"x":null}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, err := avro.Marshal(s, c.value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ToJSON(s, body)
			if err != nil || string(got) != c.json {
				t.Fatalf("ToJSON = %s, %v\nwant %s", got, err, c.json)
			}
			back, err := FromJSON(s, got)
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "values" { // a two-key map has no fixed order in hamba's output
				var v map[string]any
				if err := avro.Unmarshal(s, back, &v); err != nil || v["l"] != int64(math.MaxInt64) || v["s"] != "a\"\n" {
					t.Errorf("FromJSON gave %v, %v", v, err)
				}
			} else if !bytes.Equal(back, body) {
				t.Errorf("FromJSON = %x, want %x", back, body)
			}
		})
	}
}

func TestFromJSONZero(t *testing.T) {
	s := avro.MustParse(`{"type":"record","name":"R","fields":[
		{"name":"n","type":"int"},
		{"name":"u","type":["null","int"]},
		{"name":"v","type":["string","null"]},
		{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
		{"name":"a","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"c","type":"double"}]}}},
		{"name":"k","type":"string"}]}`)
	doc := `{"n":"ZW52","u":"ZW52","v":"ZW52","e":"ZW52","a":[{"c":1},{"c":"ZW52"}],"k":"keep"}`
	var zero []fieldpath.Path
	for _, p := range []string{"n", "u", "v", "e", "a[1].c"} {
		zero = append(zero, mustPath(t, p))
	}
	body, err := FromJSON(s, []byte(doc), zero...)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := avro.Unmarshal(s, body, &got); err != nil {
		t.Fatal(err)
	}
	a := got["a"].([]any)
	if got["n"] != 0 || got["u"] != nil || got["v"] != nil || got["e"] != "A" || got["k"] != "keep" ||
		a[0].(map[string]any)["c"] != 1.0 || a[1].(map[string]any)["c"] != 0.0 {
		t.Errorf("got %v", got)
	}
	if _, err := FromJSON(s, []byte(doc)); err == nil {
		t.Error("a base64 string in an int field was accepted")
	}
}

func TestErrors(t *testing.T) {
	s := avro.MustParse(testSchema)
	for name, body := range map[string][]byte{
		"empty":      nil,
		"short":      {2, 'a'},
		"bad string": {2, 0xff},
	} {
		if _, err := ToJSON(s, body); err == nil {
			t.Errorf("ToJSON %s: no error", name)
		}
	}
	str := avro.MustParse(`"string"`)
	if _, err := ToJSON(str, []byte{2, 'a', 0}); err == nil {
		t.Error("trailing bytes accepted")
	}
	nulls := avro.MustParse(`{"type":"array","items":"null"}`)
	if _, err := ToJSON(nulls, appendLong(nil, math.MaxInt64)); err == nil {
		t.Error("an endless array of nulls accepted")
	}
	for name, doc := range map[string]string{
		"unknown field":  `{"x":1}`,
		"trailing":       `"a" "b"`,
		"not an int":     `1.5`,
		"int too big":    `2147483648`,
		"fixed too long": `"AAAA"`,
	} {
		sch := map[string]avro.Schema{"unknown field": avro.MustParse(`{"type":"record","name":"R","fields":[]}`),
			"trailing": str, "not an int": avro.MustParse(`"int"`), "int too big": avro.MustParse(`"int"`),
			"fixed too long": avro.MustParse(`{"type":"fixed","name":"F","size":2}`)}[name]
		if _, err := FromJSON(sch, []byte(doc)); err == nil {
			t.Errorf("FromJSON %s: no error", name)
		}
	}
}

func mustPath(t *testing.T, s string) fieldpath.Path {
	t.Helper()
	p, err := fieldpath.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
