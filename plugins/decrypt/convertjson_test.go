package decrypt

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/avrojson"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records/recordstest"
)

// convertOrder is an Order with clear fields of every kind.
func convertOrder() map[string]any {
	return map[string]any{"id": "o-1", "ssn": "123-45-6789", "amount": 2000, "rate": 0.25, "note": "a private note",
		"address": map[string]any{"street": "1 Secret Road", "zip": int64(75001)}, "tags": map[string]any{"a": "1"}}
}

// produceConverted encrypts an Avro Order in convert_json mode and
// returns the stored records, the registry config and the original value.
func produceConverted(t *testing.T, reg *srfake.Registry) ([]byte, string, []byte) {
	t.Helper()
	body, err := avro.Marshal(avro.MustParse(orderSchema), convertOrder())
	if err != nil {
		t.Fatal(err)
	}
	var h sr.ConfluentHeader
	value, _ := h.AppendEncode(nil, 9, nil)
	value = append(value, body...)
	registry := `"schemaRegistryConfig":{"host":"` + reg.URL() + `"}`
	enc, code, ev := produce(t, `{`+registry+`,"schemaDataMode":"convert_json","recordValue":{"fields":[
		{"fieldName":"ssn","keySecretId":"in-memory-kms://customer-{{record.value.id}}"},
		{"fieldName":"amount","keySecretId":"in-memory-kms://pay"},
		{"fieldName":"note","keySecretId":"in-memory-kms://pay"},
		{"fieldName":"address.street","keySecretId":"in-memory-kms://addr"},
		{"fieldName":"address.zip","keySecretId":"in-memory-kms://addr"}]}}`,
		"orders", recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: value}))
	if code != 0 {
		t.Fatalf("refused: %v %s", kerr.ErrorForCode(code), ev)
	}
	return enc, registry, value
}

func TestConvertJSONStored(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("orders-value", 1, 9, sr.Schema{Schema: orderSchema, Type: sr.TypeAvro})
	enc, _, _ := produceConverted(t, reg)
	stored := read(t, enc, 0)[0]
	var doc map[string]any
	if err := json.Unmarshal(stored.Value, &doc); err != nil {
		t.Fatalf("the stored value is not JSON: %q", stored.Value)
	}
	for _, secret := range []string{"123-45", "2000", "private", "Secret Road", "75001"} {
		if bytes.Contains(stored.Value, []byte(secret)) {
			t.Errorf("%s stored in clear: %s", secret, stored.Value)
		}
	}
	for _, f := range []any{doc["ssn"], doc["amount"], doc["note"], doc["address"].(map[string]any)["zip"]} {
		s, _ := f.(string)
		if !encryption.IsEnvelope(b64(t, s)) {
			t.Errorf("field %v holds no envelope", f)
		}
	}
	if doc["id"] != "o-1" || doc["rate"] != 0.25 || !reflect.DeepEqual(doc["tags"], map[string]any{"a": "1"}) {
		t.Errorf("clear fields changed: %s", stored.Value)
	}
	var schemaHeaders []string
	for _, h := range stored.Headers {
		if h.Key == avrojson.SchemaHeader {
			schemaHeaders = append(schemaHeaders, string(h.Value))
		}
		if h.Key != encryption.Header && h.Key != avrojson.SchemaHeader {
			t.Errorf("unexpected header %s", h.Key)
		}
	}
	if !reflect.DeepEqual(schemaHeaders, []string{"9"}) {
		t.Errorf("schema headers %v, want [9]", schemaHeaders)
	}
}

func TestConvertJSONDecrypt(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("orders-value", 1, 9, sr.Schema{Schema: orderSchema, Type: sr.TypeAvro})
	enc, registry, value := produceConverted(t, reg)
	s := avro.MustParse(orderSchema)
	decode := func(t *testing.T, v []byte) map[string]any {
		t.Helper()
		var h sr.ConfluentHeader
		id, body, err := h.DecodeID(v)
		if err != nil || id != 9 {
			t.Fatalf("schema id %d, %v", id, err)
		}
		var got map[string]any
		if err := avro.Unmarshal(s, body, &got); err != nil {
			t.Fatalf("not Avro of the schema: %v", err)
		}
		return got
	}

	out, fev := fetch(t, `{`+registry+`}`, "orders", enc)
	got := read(t, out.RecordBatches, 0)[0]
	if !bytes.Equal(got.Value, value) || len(got.Headers) != 0 || len(fev.List()) != 0 {
		t.Errorf("decrypted to %x (headers %v, events %s), want %x", got.Value, got.Headers, fev, value)
	}
	if v := decode(t, got.Value); !reflect.DeepEqual(v, convertOrder()) {
		t.Errorf("decrypted %v", v)
	}

	// Selective decryption: the fields not chosen get their type's zero.
	out, fev = fetch(t, `{`+registry+`,"recordValueFields":["ssn","address.zip"]}`, "orders", enc)
	got = read(t, out.RecordBatches, 0)[0]
	v := decode(t, got.Value)
	want := convertOrder()
	want["amount"], want["note"] = 0, nil
	want["address"].(map[string]any)["street"] = ""
	if !reflect.DeepEqual(v, want) || len(got.Headers) != 0 || len(fev.List()) != 0 {
		t.Errorf("selective decryption gave %v (headers %v, events %s), want %v", v, got.Headers, fev, want)
	}

	// Ciphertext moved to another topic cannot be decrypted: zeros, and
	// a report.
	out, fev = fetch(t, `{`+registry+`,"recordValueFields":["ssn"]}`, "payments", enc)
	got = read(t, out.RecordBatches, 0)[0]
	if v := decode(t, got.Value); v["id"] != "o-1" || v["ssn"] != "" || v["amount"] != 0 {
		t.Errorf("got %v", v)
	}
	if bytes.Contains(got.Value, []byte("123-45")) {
		t.Error("a field decrypted in another topic")
	}
	if fev.Actions() != "DECRYPT_FAILED" {
		t.Errorf("events %s, want DECRYPT_FAILED", fev)
	}
	out, _ = fetch(t, `{`+registry+`,"errorPolicy":"fail_fetch"}`, "payments", enc)
	if out.ErrorCode != kerr.PolicyViolation.Code {
		t.Errorf("fail_fetch: code %v", kerr.ErrorForCode(out.ErrorCode))
	}

	// Without a registry the record stays as stored.
	if out, fev := fetch(t, `{}`, "orders", enc); !bytes.Equal(out.RecordBatches, enc) || fev.Actions() != "DECRYPT_FAILED" {
		t.Errorf("without a registry: records changed or no report (%s)", fev)
	}
	out, _ = fetch(t, `{"errorPolicy":"fail_fetch"}`, "orders", enc)
	if out.ErrorCode != kerr.PolicyViolation.Code {
		t.Errorf("fail_fetch without a registry: code %v", kerr.ErrorForCode(out.ErrorCode))
	}
}

func TestConvertJSONLeavesOthers(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("orders-value", 1, 9, sr.Schema{Schema: orderSchema, Type: sr.TypeAvro})
	registry := `"schemaRegistryConfig":{"host":"` + reg.URL() + `"}`
	cfg := `{` + registry + `,"schemaDataMode":"convert_json","recordValue":{"fields":[{"fieldName":"ssn","keySecretId":"in-memory-kms://k"}]}}`
	jsonValue := []byte(`{"ssn":"123-45-6789","id":"x"}`)
	body, _ := avro.Marshal(avro.MustParse(orderSchema), map[string]any{"id": "o", "ssn": "s", "amount": 1, "rate": 1.0,
		"note": nil, "address": map[string]any{"street": "", "zip": int64(0)}, "tags": map[string]any{}})
	var h sr.ConfluentHeader
	avroValue, _ := h.AppendEncode(nil, 9, nil)
	avroValue = append(avroValue, body...)
	for name, c := range map[string]struct {
		value      []byte
		schemaHead bool
	}{
		"json":  {jsonValue, false},
		"avro":  {avroValue, true},
		"empty": {[]byte(`{}`), false},
	} {
		t.Run(name, func(t *testing.T) {
			enc, code, ev := produce(t, cfg, "orders", recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: c.value}))
			if code != 0 {
				t.Fatalf("refused: %v %s", kerr.ErrorForCode(code), ev)
			}
			stored := read(t, enc, 0)[0]
			has := false
			for _, hd := range stored.Headers {
				has = has || hd.Key == avrojson.SchemaHeader
			}
			if has != c.schemaHead {
				t.Errorf("schema header %v, want %v", has, c.schemaHead)
			}
			out, fev := fetch(t, `{`+registry+`}`, "orders", enc)
			if got := read(t, out.RecordBatches, 0)[0]; !bytes.Equal(got.Value, c.value) || len(got.Headers) != 0 {
				t.Errorf("decrypted %q (events %s), want %q", got.Value, fev, c.value)
			}
		})
	}
}

func TestConvertJSONConfig(t *testing.T) {
	p, _ := interceptor.Lookup("EncryptPlugin")
	for mode, ok := range map[string]bool{"convert_json": true, "CONVERT_JSON": true, "preserve_avro": true, "": true, "json": false} {
		cfg := `{"schemaDataMode":` + strconv.Quote(mode) + `,"recordValue":{"fields":[{"fieldName":"a","keySecretId":"in-memory-kms://k"}]}}`
		if _, err := p.New(json.RawMessage(cfg), interceptor.Env{}); (err == nil) != ok {
			t.Errorf("schemaDataMode %q: error %v", mode, err)
		}
	}
}
