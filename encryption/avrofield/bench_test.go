package avrofield

import (
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/strait-gateway/strait/fieldpath"
)

const customerSchema = `{"type":"record","name":"Customer","fields":[
 {"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"email","type":"string"},
 {"name":"phone","type":["null","string"]},{"name":"age","type":"int"},{"name":"score","type":"double"},
 {"name":"active","type":"boolean"},{"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"tier","type":{"type":"enum","name":"Tier","symbols":["FREE","PRO"]}},
 {"name":"address","type":{"type":"record","name":"Address","fields":[
   {"name":"street","type":"string"},{"name":"city","type":"string"},{"name":"zip","type":"string"}]}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"attrs","type":{"type":"map","values":"string"}},
 {"name":"ssn","type":"string"},{"name":"balance","type":"long"},{"name":"notes","type":["null","string"]}]}`

func benchBody(b *testing.B) (avro.Schema, []byte, []fieldpath.Path) {
	s := mustSchema(b, customerSchema)
	body := mustMarshal(b, avro.DefaultConfig, s, map[string]any{
		"id": int64(123456789), "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000",
		"age": 36, "score": 98.5, "active": true, "created": int64(1700000000000), "tier": "PRO",
		"address": map[string]any{"street": "12 St James's Square", "city": "London", "zip": "SW1Y 4JH"},
		"tags":    []any{"vip", "early", "math"}, "attrs": map[string]any{"lang": "en", "tz": "Europe/London"},
		"ssn": "078-05-1120", "balance": int64(1234567), "notes": "prefers email",
	})
	var paths []fieldpath.Path
	for _, p := range []string{"ssn", "address.street", "balance"} {
		paths = append(paths, mustPath(b, p))
	}
	return s, body, paths
}

// BenchmarkReplace measures one record with three encrypted fields; the
// replacements stand in for ciphertext of realistic size.
func BenchmarkReplace(b *testing.B) {
	s, body, paths := benchBody(b)
	ct := make([]byte, 60)
	fn := func(_ string, vs avro.Schema, raw []byte) ([]byte, error) {
		repl, _, err := Conceal(vs, raw, string(ct))
		return repl, err
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		out := body
		for _, p := range paths {
			var err error
			if out, err = Replace(out, s, p, fn); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWalk measures the walk alone: fn keeps every value.
func BenchmarkWalk(b *testing.B) {
	s, body, paths := benchBody(b)
	fn := func(_ string, _ avro.Schema, raw []byte) ([]byte, error) { return raw, nil }
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			if _, err := Replace(body, s, p, fn); err != nil {
				b.Fatal(err)
			}
		}
	}
}
