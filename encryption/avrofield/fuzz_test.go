package avrofield

import (
	"bytes"
	"testing"

	"github.com/hamba/avro/v2"
)

func FuzzReplace(f *testing.F) {
	s := mustSchema(f, orderSchema)
	paths := []string{"items[*].card", "tags.secret", "home.city", "next.next.id", "note", "items[1]", "addr"}
	for _, api := range configs {
		body := mustMarshal(f, api, s, sampleOrder())
		for i := range paths {
			f.Add(body, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		p := mustPath(t, paths[int(which)%len(paths)])
		orig := bytes.Clone(body)
		out, err := Replace(body, s, p, func(_ string, _ avro.Schema, raw []byte) ([]byte, error) { return raw, nil })
		if !bytes.Equal(body, orig) {
			t.Fatal("body modified")
		}
		if err != nil {
			return
		}
		if !bytes.Equal(out, body) {
			t.Fatalf("identity replacement changed %x into %x", body, out)
		}
		out, err = Replace(body, s, p, func(_ string, vs avro.Schema, raw []byte) ([]byte, error) {
			repl, _, err := Conceal(vs, raw, "ct")
			return repl, err
		})
		if err != nil {
			t.Fatalf("conceal failed on data the identity walk accepted: %v", err)
		}
		if _, err := Replace(out, s, p, func(_ string, _ avro.Schema, raw []byte) ([]byte, error) { return raw, nil }); err != nil {
			t.Fatalf("concealed data no longer walks: %v", err)
		}
	})
}
