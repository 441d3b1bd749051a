package encryptschemabased

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/encrypt"
)

func testRules(t *testing.T, defaultKey string) rules {
	t.Helper()
	r := rules{namespace: "conduktor.", tags: []string{"PII", "GDPR"}, defaultAlg: encryption.AES128GCM}
	if defaultKey != "" {
		k, err := interceptor.ParseTemplate(defaultKey)
		if err != nil {
			t.Fatal(err)
		}
		r.defaultKey = &k
	}
	return r
}

// describe writes found fields as "path key algorithm".
func describe(t *testing.T, r rules, schema string) ([]string, error) {
	t.Helper()
	s, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	found, err := r.avroFields(s)
	var out []string
	for _, f := range found {
		out = append(out, fmt.Sprintf("%s %s %s", f.Path, encrypt.RawTemplate(f.KeySecretID), f.Algorithm))
	}
	return out, err
}

func rec(fields ...string) string {
	return `{"type":"record","name":"R","namespace":"t","fields":[` + strings.Join(fields, ",") + `]}`
}

func TestAvroFields(t *testing.T) {
	for name, c := range map[string]struct {
		schema     string
		defaultKey string
		want       []string
		err        string
	}{
		"nothing marked": {schema: rec(`{"name":"a","type":"string"}`, `{"name":"b","type":"int","other.keySecretId":"in-memory-kms://x"}`)},
		"key on the field": {schema: rec(`{"name":"a","type":"string"}`, `{"name":"ssn","type":"string","conduktor.keySecretId":"in-memory-kms://pii"}`),
			want: []string{"ssn in-memory-kms://pii AES128_GCM"}},
		"algorithm only, default key": {schema: rec(`{"name":"n","type":"int","conduktor.algorithm":"CHACHA20_POLY1305"}`), defaultKey: "in-memory-kms://def",
			want: []string{"n in-memory-kms://def CHACHA20_POLY1305"}},
		"listed tag": {schema: rec(`{"name":"a","type":"string","conduktor.tags":["x","GDPR"]}`, `{"name":"b","type":"string","conduktor.tags":["other"]}`), defaultKey: "in-memory-kms://def",
			want: []string{"a in-memory-kms://def AES128_GCM"}},
		"tag as a string": {schema: rec(`{"name":"a","type":"string","conduktor.tags":"PII"}`), defaultKey: "in-memory-kms://def",
			want: []string{"a in-memory-kms://def AES128_GCM"}},
		"annotation on the type": {schema: rec(`{"name":"a","type":{"type":"string","conduktor.keySecretId":"in-memory-kms://t"}}`),
			want: []string{"a in-memory-kms://t AES128_GCM"}},
		"key template": {schema: rec(`{"name":"id","type":"string"}`, `{"name":"s","type":"string","conduktor.keySecretId":"in-memory-kms://c-{{record.value.id}}","conduktor.algorithm":"AES256_GCM"}`),
			want: []string{"s in-memory-kms://c-{{record.value.id}} AES256_GCM"}},
		"nested record, union branch and array": {schema: rec(
			`{"name":"addr","type":{"type":"record","name":"A","fields":[{"name":"street","type":"string","conduktor.tags":["PII"]},{"name":"zip","type":"long"}]}}`,
			`{"name":"opt","type":["null",{"type":"record","name":"O","fields":[{"name":"x","type":"int","conduktor.keySecretId":"in-memory-kms://o"}]}]}`,
			`{"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"card","type":"string","conduktor.algorithm":"AES256_GCM"}]}}}`,
			`{"name":"again","type":"A"}`), defaultKey: "in-memory-kms://def",
			want: []string{"addr.street in-memory-kms://def AES128_GCM", "opt.x in-memory-kms://o AES128_GCM",
				"items[*].card in-memory-kms://def AES256_GCM", "again.street in-memory-kms://def AES128_GCM"}},
		"whole record field": {schema: rec(`{"name":"r","type":{"type":"record","name":"In","fields":[{"name":"z","type":"string","conduktor.tags":["PII"]}]},"conduktor.keySecretId":"in-memory-kms://w"}`),
			want: []string{"r in-memory-kms://w AES128_GCM"}},
		"other namespace ignored": {schema: rec(`{"name":"a","type":"string","acme.keySecretId":"in-memory-kms://x"}`)},
		"no key anywhere": {schema: rec(`{"name":"a","type":"string","conduktor.tags":["PII"]}`),
			err: "field a: marked for encryption but the schema names no conduktor.keySecretId"},
		"bad key":          {schema: rec(`{"name":"a","type":"string","conduktor.keySecretId":"nokms"}`), err: "field a: conduktor.keySecretId"},
		"unknown variable": {schema: rec(`{"name":"a","type":"string","conduktor.keySecretId":"in-memory-kms://{{user}}"}`), err: "unknown template variable {{user}}"},
		"key not a string": {schema: rec(`{"name":"a","type":"string","conduktor.keySecretId":3}`), err: "keySecretId is not a string"},
		"bad algorithm":    {schema: rec(`{"name":"a","type":"string","conduktor.algorithm":"ROT13"}`), defaultKey: "in-memory-kms://d", err: "unknown algorithm"},
		"bad tags":         {schema: rec(`{"name":"a","type":"string","conduktor.tags":[1]}`), err: "not a string"},
		"inside a map": {schema: rec(`{"name":"m","type":{"type":"map","values":{"type":"record","name":"V","fields":[{"name":"s","type":"string","conduktor.keySecretId":"in-memory-kms://m"}]}}}`),
			err: "inside the values of a map"},
		"recursive with marks": {schema: `{"type":"record","name":"Node","fields":[{"name":"v","type":"string","conduktor.keySecretId":"in-memory-kms://n"},{"name":"next","type":["null","Node"]}]}`,
			err: "record Node is recursive"},
		"recursive without marks": {schema: `{"type":"record","name":"Node","fields":[{"name":"v","type":"string"},{"name":"next","type":["null","Node"]}]}`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := describe(t, testRules(t, c.defaultKey), c.schema)
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

func TestUnionBranchesMustAgree(t *testing.T) {
	schema := rec(`{"name":"u","type":[
		{"type":"record","name":"X","fields":[{"name":"s","type":"string","conduktor.keySecretId":"in-memory-kms://one"}]},
		{"type":"record","name":"Y","fields":[{"name":"s","type":"string","conduktor.keySecretId":"in-memory-kms://two"}]}]}`)
	if _, err := describe(t, testRules(t, ""), schema); err == nil || !strings.Contains(err.Error(), "marked twice") {
		t.Errorf("error %v, want a conflict", err)
	}
	same := strings.ReplaceAll(schema, "two", "one")
	if got, err := describe(t, testRules(t, ""), same); err != nil || !reflect.DeepEqual(got, []string{"u.s in-memory-kms://one AES128_GCM"}) {
		t.Errorf("agreeing branches: %q, %v", got, err)
	}
}

// FuzzAvroFields walks whatever schema parses, and every path it reports
// must parse back the same.
func FuzzAvroFields(f *testing.F) {
	f.Add(rec(`{"name":"a","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"c","type":"string","conduktor.tags":["PII"]}]}}}`))
	f.Add(`{"type":"record","name":"Node","fields":[{"name":"v","type":"string"},{"name":"next","type":["null","Node"]}]}`)
	f.Add(rec(`{"name":"m","type":{"type":"map","values":{"type":"array","items":"string"}},"conduktor.algorithm":"AES256_GCM"}`))
	k, _ := interceptor.ParseTemplate("in-memory-kms://d")
	r := rules{namespace: "conduktor.", tags: []string{"PII"}, defaultKey: &k}
	f.Fuzz(func(t *testing.T, schema string) {
		s, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{})
		if err != nil {
			return
		}
		found, err := r.avroFields(s)
		if err != nil {
			return
		}
		for _, fl := range found {
			if len(fl.Path) == 0 || fl.Path[len(fl.Path)-1].Name == "" {
				t.Fatalf("path %q does not end with a field name", fl.Path)
			}
		}
	})
}
