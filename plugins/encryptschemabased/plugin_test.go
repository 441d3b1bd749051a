package encryptschemabased

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	_ "github.com/strait-gateway/strait/plugins/decrypt"
	"github.com/strait-gateway/strait/records"
	"github.com/strait-gateway/strait/records/recordstest"
)

// produce runs an EncryptSchemaBasedPlugin chain on a produce request of
// one partition; it returns the records sent on, or the refusal's code.
func produce(t *testing.T, config string, data []byte) ([]byte, int16, *interceptortest.Events) {
	t.Helper()
	ch, ev := interceptortest.Chain(t, "io.conduktor.gateway.interceptor.EncryptSchemaBasedPlugin", config)
	out, code := interceptortest.Produce(t, ch, "customers", data)
	return out, code, ev
}

// fetch runs a DecryptPlugin chain on a fetch response of one partition.
func fetch(t *testing.T, config string, data []byte) (kmsg.FetchResponseTopicPartition, *interceptortest.Events) {
	t.Helper()
	ch, ev := interceptortest.Chain(t, "DecryptPlugin", config)
	return interceptortest.Fetch(ch, "customers", data), ev
}

func read(t *testing.T, data []byte) []kmsg.Record {
	t.Helper()
	var out []kmsg.Record
	if err := records.Read(data, func(b *records.Batch) error { out = append(out, b.Records...); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

const customerSchema = `{"type":"record","name":"Customer","namespace":"t","fields":[
	{"name":"id","type":"string"},
	{"name":"ssn","type":"string","conduktor.keySecretId":"in-memory-kms://pii-{{record.value.id}}"},
	{"name":"age","type":"int","conduktor.tags":["PII"]},
	{"name":"note","type":["null","string"],"conduktor.algorithm":"CHACHA20_POLY1305"},
	{"name":"cards","type":{"type":"array","items":{"type":"record","name":"Card","fields":[
		{"name":"number","type":"string","conduktor.tags":["PCI"]},{"name":"brand","type":"string"}]}}}]}`

func framed(t *testing.T, id int, schema string, v any) []byte {
	t.Helper()
	body, err := avro.Marshal(avro.MustParse(schema), v)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := new(sr.ConfluentHeader).AppendEncode(nil, id, nil)
	return append(head, body...)
}

func TestRoundTrip(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("customers-value", 1, 7, sr.Schema{Schema: customerSchema, Type: sr.TypeAvro})
	registry := `"schemaRegistryConfig":{"host":"` + reg.URL() + `"}`
	customer := map[string]any{"id": "c-1", "ssn": "123-45-6789", "age": 42, "note": map[string]any{"string": "vip"},
		"cards": []any{map[string]any{"number": "4111-1111", "brand": "visa"}, map[string]any{"number": "5500-0000", "brand": "mc"}}}
	orig := []kmsg.Record{
		{Key: []byte("k1"), Value: framed(t, 7, customerSchema, customer)},
		{Key: []byte("k2"), Value: []byte(`{"ssn":"plain JSON has no schema"}`)},
		{Key: []byte("k3")}, // a tombstone
	}
	for _, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.ZstdCompression()} {
		enc, code, ev := produce(t, `{`+registry+`,"tags":["PII","PCI"],"defaultKeySecretId":"in-memory-kms://default","defaultAlgorithm":"AES256_GCM"}`,
			recordstest.Batch(t, codec, orig...))
		if code != 0 {
			t.Fatalf("refused: %v %s", kerr.ErrorForCode(code), ev)
		}
		stored := read(t, enc)
		id, body, err := new(sr.ConfluentHeader).DecodeID(stored[0].Value)
		if err != nil || id != 7 {
			t.Fatalf("schema id %d, %v", id, err)
		}
		var got map[string]any
		if err := avro.Unmarshal(avro.MustParse(customerSchema), body, &got); err != nil {
			t.Fatalf("the stored value is not Avro of its schema: %v", err)
		}
		cards := got["cards"].([]any)
		for _, s := range []any{got["ssn"], got["note"], cards[0].(map[string]any)["number"], cards[1].(map[string]any)["number"]} {
			text, _ := s.(string)
			if m, ok := s.(map[string]any); ok {
				text, _ = m["string"].(string)
			}
			env, err := base64.StdEncoding.DecodeString(text)
			if err != nil || !encryption.IsEnvelope(env) {
				t.Errorf("field holds %v, want base64 ciphertext", s)
			}
		}
		if got["age"] != math.MinInt32 || got["id"] != "c-1" || cards[1].(map[string]any)["brand"] != "mc" {
			t.Errorf("stored %v", got)
		}
		want := []string{"value:ssn", "value:age", "value:note", "value:cards[0].number", "value:cards[1].number"}
		if locs, _ := encryption.Locations(stored[0].Headers); !reflect.DeepEqual(locs, want) {
			t.Errorf("marker %v, want %v", locs, want)
		}
		if !bytes.Equal(stored[1].Value, orig[1].Value) || len(stored[1].Headers) != 0 || stored[2].Value != nil {
			t.Errorf("unframed value or tombstone changed: %q %v", stored[1].Value, stored[1].Headers)
		}

		out, fev := fetch(t, `{`+registry+`}`, enc)
		back := read(t, out.RecordBatches)
		for i := range orig {
			if !bytes.Equal(back[i].Value, orig[i].Value) || (back[i].Value == nil) != (orig[i].Value == nil) || len(back[i].Headers) != 0 {
				t.Errorf("record %d decrypted to %x headers %v (events %s), want %x", i, back[i].Value, back[i].Headers, fev, orig[i].Value)
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	unkeyed := `{"type":"record","name":"U","fields":[{"name":"s","type":"string","conduktor.tags":["PII"]}]}`
	reg.SeedSchema("a-value", 1, 1, sr.Schema{Schema: unkeyed, Type: sr.TypeAvro})
	reg.SeedSchema("j-value", 1, 2, sr.Schema{Schema: `{"type":"object","properties":{"a":{"$ref":"other.json"}}}`, Type: sr.TypeJSON})
	registry := `"schemaRegistryConfig":{"host":"` + reg.URL() + `"}`
	jsonValue, _ := new(sr.ConfluentHeader).AppendEncode(nil, 2, nil)
	for name, c := range map[string]struct {
		config string
		value  []byte
		code   int16
	}{
		"marked without a key":     {`{` + registry + `,"tags":["PII"]}`, framed(t, 1, unkeyed, map[string]any{"s": "x"}), kerr.InvalidRecord.Code},
		"keyed by default":         {`{` + registry + `,"tags":["PII"],"defaultKeySecretId":"in-memory-kms://d"}`, framed(t, 1, unkeyed, map[string]any{"s": "x"}), 0},
		"tag not listed":           {`{` + registry + `,"tags":["GDPR"]}`, framed(t, 1, unkeyed, map[string]any{"s": "x"}), 0},
		"JSON Schema, remote $ref": {`{` + registry + `,"defaultKeySecretId":"in-memory-kms://d"}`, append(jsonValue, `{"a":1}`...), kerr.InvalidRecord.Code},
		"unknown schema id":        {`{` + registry + `,"defaultKeySecretId":"in-memory-kms://d"}`, framed(t, 99, unkeyed, map[string]any{"s": "x"}), kerr.InvalidRecord.Code},
	} {
		t.Run(name, func(t *testing.T) {
			_, code, ev := produce(t, c.config, recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: c.value}))
			if code != c.code {
				t.Errorf("code %v, want %v (events %s)", kerr.ErrorForCode(code), kerr.ErrorForCode(c.code), ev)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("EncryptSchemaBasedPlugin")
	registry := `"schemaRegistryConfig":{"host":"http://127.0.0.1:1"}`
	for config, want := range map[string]string{
		`{}`: "schemaRegistryConfig",
		`{` + registry + `,"defaultAlgorithm":"ROT13"}`:                                        "defaultAlgorithm",
		`{` + registry + `,"defaultKeySecretId":"nokms"}`:                                      "defaultKeySecretId",
		`{` + registry + `,"defaultKeySecretId":"in-memory-kms://{{vcluster}}"}`:               "unknown template variable",
		`{` + registry + `,"tags":[""]}`:                                                       "tags",
		`{` + registry + `,"schemaDataMode":"json"}`:                                           "schemaDataMode",
		`{"schemaRegistryConfig":{"host":"ftp://x"},"defaultKeySecretId":"in-memory-kms://d"}`: "schemaRegistryConfig.host",
	} {
		if _, err := p.New(json.RawMessage(config), interceptor.Env{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %s", config, err, want)
		}
	}
	if _, err := p.New(json.RawMessage(`{`+registry+`,"defaultKeySecretId":"in-memory-kms://k-{{record.topic}}","namespace":"acme."}`), interceptor.Env{}); err != nil {
		t.Errorf("a valid config: %v", err)
	}
}
