package encryptschemabased

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/encrypt"
)

// describeJSON writes the fields a JSON Schema marks as "path key algorithm".
func describeJSON(r rules, schema string) ([]string, error) {
	found, err := r.jsonFields(schema)
	var out []string
	for _, f := range found {
		out = append(out, fmt.Sprintf("%s %s %s", f.Path, encrypt.RawTemplate(f.KeySecretID), f.Algorithm))
	}
	return out, err
}

// obj is an object schema of the given properties, each "name": schema.
func obj(props ...string) string {
	return `{"type":"object","properties":{` + strings.Join(props, ",") + `}}`
}

func TestJSONFields(t *testing.T) {
	const key = `"conduktor.keySecretId":"in-memory-kms://k"`
	for name, c := range map[string]struct {
		schema     string
		defaultKey string
		want       []string
		err        string
	}{
		"nothing marked": {schema: obj(`"a":{"type":"string"}`, `"b":{"type":"integer","other.keySecretId":"in-memory-kms://x"}`)},
		"boolean schema": {schema: `true`},
		"key on the property": {schema: obj(`"a":{"type":"string"}`, `"ssn":{"type":"string",`+key+`}`),
			want: []string{"ssn in-memory-kms://k AES128_GCM"}},
		"algorithm only, default key": {schema: obj(`"n":{"type":"integer","conduktor.algorithm":"XCHACHA20_POLY1305"}`), defaultKey: "in-memory-kms://def",
			want: []string{"n in-memory-kms://def XCHACHA20_POLY1305"}},
		"listed tag": {schema: obj(`"a":{"type":"string","conduktor.tags":["x","PII"]}`, `"b":{"type":"string","conduktor.tags":["other"]}`), defaultKey: "in-memory-kms://def",
			want: []string{"a in-memory-kms://def AES128_GCM"}},
		"key template and algorithm": {schema: obj(`"s":{"type":"string","conduktor.keySecretId":"in-memory-kms://c-{{record.value.id}}","conduktor.algorithm":"AES256_GCM"}`),
			want: []string{"s in-memory-kms://c-{{record.value.id}} AES256_GCM"}},
		"nested objects": {schema: obj(`"a":` + obj(`"b":`+obj(`"c":{"type":"string",`+key+`}`), `"d":{"type":"string"}`)),
			want: []string{"a.b.c in-memory-kms://k AES128_GCM"}},
		"whole object marked": {schema: obj(`"a":{"type":"object",` + key + `,"properties":{"b":{"conduktor.algorithm":"AES256_GCM"}}}`),
			want: []string{"a in-memory-kms://k AES128_GCM"}},
		"array items": {schema: obj(`"cards":{"type":"array","items":` + obj(`"number":{"type":"string",`+key+`}`) + `}`),
			want: []string{"cards[*].number in-memory-kms://k AES128_GCM"}},
		"array of arrays": {schema: obj(`"m":{"type":"array","items":{"type":"array","items":` + obj(`"x":{`+key+`}`) + `}}`),
			want: []string{"m[*][*].x in-memory-kms://k AES128_GCM"}},
		"tuple positions": {schema: obj(`"t":{"type":"array","prefixItems":[{"type":"string"},` + obj(`"x":{`+key+`}`) + `]}`),
			want: []string{"t[1].x in-memory-kms://k AES128_GCM"}},
		"ref to definitions": {schema: `{"type":"object","properties":{"home":{"$ref":"#/definitions/Addr"},"work":{"$ref":"#/definitions/Addr"}},
			"definitions":{"Addr":` + obj(`"street":{"type":"string","conduktor.tags":["GDPR"]}`) + `}}`, defaultKey: "in-memory-kms://def",
			want: []string{"home.street in-memory-kms://def AES128_GCM", "work.street in-memory-kms://def AES128_GCM"}},
		"annotation on the $defs type": {schema: `{"type":"object","properties":{"ssn":{"$ref":"#/$defs/SSN","conduktor.algorithm":"AES256_GCM"}},
			"$defs":{"SSN":{"type":"string",` + key + `}}}`,
			want: []string{"ssn in-memory-kms://k AES256_GCM"}},
		"escaped pointer": {schema: `{"type":"object","properties":{"a":{"$ref":"#/$defs/x~1y%20z"}},"$defs":{"x/y z":` + obj(`"b":{`+key+`}`) + `}}`,
			want: []string{"a.b in-memory-kms://k AES128_GCM"}},
		"allOf, anyOf, oneOf, then": {schema: `{"allOf":[` + obj(`"a":{`+key+`}`) + `],"anyOf":[{"type":"null"},` + obj(`"b":{`+key+`}`) + `],
			"oneOf":[` + obj(`"c":`+obj(`"d":{`+key+`}`)) + `],"if":{},"then":` + obj(`"e":{`+key+`}`) + `}`,
			want: []string{"a in-memory-kms://k AES128_GCM", "b in-memory-kms://k AES128_GCM", "c.d in-memory-kms://k AES128_GCM", "e in-memory-kms://k AES128_GCM"}},
		"branches agree": {schema: `{"oneOf":[` + obj(`"s":{`+key+`}`) + `,` + obj(`"s":{`+key+`}`) + `]}`,
			want: []string{"s in-memory-kms://k AES128_GCM"}},
		"recursive without marks": {schema: `{"$ref":"#/$defs/Node","$defs":{"Node":` + obj(`"v":{"type":"string"}`, `"next":{"$ref":"#/$defs/Node"}`) + `}}`},
		"other namespace ignored": {schema: obj(`"a":{"acme.keySecretId":"in-memory-kms://x"}`)},
		"no key anywhere": {schema: obj(`"a":{"type":"string","conduktor.tags":["PII"]}`),
			err: "property a: marked for encryption but the schema names no conduktor.keySecretId"},
		"bad key":          {schema: obj(`"a":{"conduktor.keySecretId":"nokms"}`), err: "property a: conduktor.keySecretId"},
		"unknown variable": {schema: obj(`"a":{"conduktor.keySecretId":"in-memory-kms://{{user}}"}`), err: "unknown template variable {{user}}"},
		"key not a string": {schema: obj(`"a":{"conduktor.keySecretId":3}`), err: "keySecretId is not a string"},
		"bad algorithm":    {schema: obj(`"a":{"conduktor.algorithm":"ROT13"}`), defaultKey: "in-memory-kms://d", err: "unknown algorithm"},
		"bad tags":         {schema: obj(`"a":{"conduktor.tags":[true]}`), err: "not a string"},
		"branches disagree": {schema: `{"anyOf":[` + obj(`"s":{`+key+`}`) + `,` + obj(`"s":{`+key+`,"conduktor.algorithm":"AES256_GCM"}`) + `]}`,
			err: "field s is marked twice"},
		"recursive with marks": {schema: `{"$ref":"#/$defs/Node","$defs":{"Node":` + obj(`"v":{`+key+`}`, `"next":{"$ref":"#/$defs/Node"}`) + `}}`,
			err: "$ref #/$defs/Node is recursive"},
		"root ref recursion": {schema: obj(`"v":{`+key+`}`, `"kids":{"type":"array","items":{"$ref":"#"}}`), err: "$ref # is recursive"},
		"remote ref":         {schema: obj(`"a":{"$ref":"https://example.com/a.json"}`), err: "not a pointer into this schema"},
		"dangling ref":       {schema: obj(`"a":{"$ref":"#/$defs/Missing"}`), err: "points at nothing"},
		"inside additionalProperties": {schema: `{"type":"object","additionalProperties":` + obj(`"s":{`+key+`}`) + `}`,
			err: "inside additionalProperties or patternProperties"},
		"inside patternProperties": {schema: `{"type":"object","patternProperties":{"^x":{` + key + `}}}`, err: "inside additionalProperties or patternProperties"},
		"unnameable property":      {schema: obj(`"a.b":{` + key + `}`), err: `inside property "a.b"`},
		"past the tuple":           {schema: obj(`"t":{"type":"array","items":[{}],"additionalItems":` + obj(`"x":{`+key+`}`) + `}`), err: "past the tuple positions"},
		"marked items":             {schema: obj(`"t":{"type":"array","items":{"type":"string",` + key + `}}`), err: "schema at t[*] is marked for encryption; only object properties can be"},
		"marked root":              {schema: `{"type":"string",` + key + `}`, err: "the root schema is marked"},
		"one inside the other": {schema: `{"anyOf":[` + obj(`"a":{`+key+`}`) + `,` + obj(`"a":`+obj(`"b":{`+key+`}`)) + `]}`,
			err: "fields a and a.b are both marked"},
		"not JSON":            {schema: `{"type":`, err: "JSON Schema"},
		"not a schema":        {schema: `[1]`, err: "neither an object nor a boolean"},
		"ref is not a string": {schema: obj(`"a":{"$ref":1}`), err: "$ref is not a string"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := describeJSON(testRules(t, c.defaultKey), c.schema)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("fields %q, want %q", got, c.want)
			}
		})
	}
}

// TestJSONWalkIsBounded gives a schema whose references double at every
// level; the walk must stop rather than visit them all.
func TestJSONWalkIsBounded(t *testing.T) {
	defs := []string{`"d0":{"type":"string"}`}
	for i := 1; i <= 40; i++ {
		defs = append(defs, fmt.Sprintf(`"d%d":{"allOf":[{"$ref":"#/$defs/d%d"},{"$ref":"#/$defs/d%d"}]}`, i, i-1, i-1))
	}
	schema := `{"$ref":"#/$defs/d40","$defs":{` + strings.Join(defs, ",") + `}}`
	if _, err := testRules(t, "").jsonFields(schema); err == nil || !strings.Contains(err.Error(), "subschemas to walk") {
		t.Errorf("error %v, want the walk bounded", err)
	}
}

// FuzzJSONFields walks whatever parses; every path it reports must parse
// back the same and end with a property name.
func FuzzJSONFields(f *testing.F) {
	f.Add(obj(`"cards":{"type":"array","items":` + obj(`"n":{"conduktor.tags":["PII"]}`) + `}`))
	f.Add(`{"$ref":"#/$defs/N","$defs":{"N":` + obj(`"v":{}`, `"next":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/N"}]}`) + `}}`)
	f.Add(`{"oneOf":[` + obj(`"a":{"conduktor.algorithm":"AES256_GCM"}`) + `],"prefixItems":[{"$ref":"#"}]}`)
	k, _ := interceptor.ParseTemplate("in-memory-kms://d")
	r := rules{namespace: "conduktor.", tags: []string{"PII"}, defaultKey: &k}
	f.Fuzz(func(t *testing.T, schema string) {
		found, err := r.jsonFields(schema)
		if err != nil {
			return
		}
		for _, fl := range found {
			back, err := fieldpath.Parse(fl.Path.String())
			if err != nil || !reflect.DeepEqual(back, fl.Path) {
				t.Fatalf("path %q parses back as %q, %v", fl.Path, back, err)
			}
			if fl.Path[len(fl.Path)-1].Name == "" {
				t.Fatalf("path %q does not end with a property name", fl.Path)
			}
		}
	})
}
