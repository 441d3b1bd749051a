package encryptschemabased

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/records/recordstest"
)

const customerJSONSchema = `{"type":"object","properties":{
	"id":{"type":"string"},
	"ssn":{"type":"string","conduktor.keySecretId":"in-memory-kms://pii-{{record.value.id}}"},
	"age":{"type":"integer","conduktor.tags":["PII"]},
	"home":{"$ref":"#/$defs/Address"},
	"cards":{"type":"array","items":{"allOf":[{"$ref":"#/definitions/Card"}]}}},
	"$defs":{"Address":{"type":"object","properties":{"street":{"type":"string","conduktor.algorithm":"CHACHA20_POLY1305"},"zip":{"type":"string"}}}},
	"definitions":{"Card":{"type":"object","properties":{"number":{"type":"string","conduktor.tags":["PCI"]},"brand":{"type":"string"}}}}}`

// The marked values of customerJSON, as written in it.
var customerMarked = []string{`"123-45-6789"`, `42`, `"1 Main St"`, `"4111-1111"`, `"5500-0000"`}

const customerJSON = `{ "id": "c-1", "ssn": "123-45-6789", "age": 42,
  "home": {"street": "1 Main St", "zip": "02134"},
  "cards": [ {"number": "4111-1111", "brand": "visa"}, {"brand": "mc", "number": "5500-0000"} ] }`

func TestJSONSchemaRoundTrip(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("customers-value", 1, 9, sr.Schema{Schema: customerJSONSchema, Type: sr.TypeJSON})
	registry := `"schemaRegistryConfig":{"host":"` + reg.URL() + `"}`
	head, _ := new(sr.ConfluentHeader).AppendEncode(nil, 9, nil)
	orig := []kmsg.Record{
		{Key: []byte("k1"), Value: append(head, customerJSON...)},
		{Key: []byte("k2"), Value: []byte(`{"ssn":"plain JSON has no schema"}`)},
	}
	for _, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.ZstdCompression()} {
		enc, code, ev := produce(t, `{`+registry+`,"tags":["PII","PCI"],"defaultKeySecretId":"in-memory-kms://default","defaultAlgorithm":"AES256_GCM"}`,
			recordstest.Batch(t, codec, orig...))
		if code != 0 {
			t.Fatalf("refused: %v %s", kerr.ErrorForCode(code), ev)
		}
		stored := read(t, enc)
		id, body, err := new(sr.ConfluentHeader).DecodeID(stored[0].Value)
		if err != nil || id != 9 {
			t.Fatalf("schema id %d, %v", id, err)
		}
		if !json.Valid(body) {
			t.Fatalf("the stored value is not JSON: %s", body)
		}
		// Every ciphertext is a base64 envelope, and with the ciphertexts
		// and the marked values blanked the two documents are the same bytes.
		ciphertexts := regexp.MustCompile(`"[A-Za-z0-9+/]{40,}={0,2}"`).FindAll(body, -1)
		if len(ciphertexts) != len(customerMarked) {
			t.Fatalf("%d ciphertexts in %s, want %d", len(ciphertexts), body, len(customerMarked))
		}
		for _, c := range ciphertexts {
			env, err := base64.StdEncoding.DecodeString(string(c[1 : len(c)-1]))
			if err != nil || !encryption.IsEnvelope(env) {
				t.Errorf("field holds %s, want a base64 envelope", c)
			}
		}
		blanked := string(regexp.MustCompile(`"[A-Za-z0-9+/]{40,}={0,2}"`).ReplaceAll(body, []byte("@")))
		want := customerJSON
		for _, m := range customerMarked {
			want = strings.Replace(want, m, "@", 1)
		}
		if blanked != want {
			t.Errorf("stored body\n%s\nwant, ciphertexts aside,\n%s", blanked, want)
		}
		wantLocs := []string{"value:age", "value:cards[0].number", "value:cards[1].number", "value:home.street", "value:ssn"}
		if locs, _ := encryption.Locations(stored[0].Headers); !reflect.DeepEqual(locs, wantLocs) {
			t.Errorf("marker %v, want %v", locs, wantLocs)
		}
		if !bytes.Equal(stored[1].Value, orig[1].Value) || len(stored[1].Headers) != 0 {
			t.Errorf("unframed value changed: %q %v", stored[1].Value, stored[1].Headers)
		}

		out, fev := fetch(t, `{`+registry+`}`, enc)
		back := read(t, out.RecordBatches)
		for i := range orig {
			if !bytes.Equal(back[i].Value, orig[i].Value) || len(back[i].Headers) != 0 {
				t.Errorf("record %d decrypted to %q headers %v (events %s), want %q", i, back[i].Value, back[i].Headers, fev, orig[i].Value)
			}
		}
	}
}
