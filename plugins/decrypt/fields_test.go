package decrypt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/records/recordstest"
)

func TestJSONFields(t *testing.T) {
	value := []byte(`{"name":"ann", "card":"4111-1111","salary":2000,"items":[{"card":"a1-secret"},{"card":"b2-secret"}],"ok":true}`)
	enc, code, ev := produce(t, `{"recordValue":{"fields":[
		{"fieldName":"card","keySecretId":"in-memory-kms://cust-{{record.value.name}}"},
		{"fieldName":"salary","keySecretId":"in-memory-kms://pay","algorithm":"CHACHA20_POLY1305"},
		{"fieldName":"items[*].card","keySecretId":"in-memory-kms://items"},
		{"fieldName":"absent","keySecretId":"in-memory-kms://x"}]}}`,
		"orders", recordstest.Batch(t, kgo.ZstdCompression(), kmsg.Record{Key: []byte("k"), Value: value}))
	if code != 0 {
		t.Fatalf("refused: %v %s", kerr.ErrorForCode(code), ev)
	}
	stored := read(t, enc, kgo.CompressionCodecType(4))[0]
	if !json.Valid(stored.Value) {
		t.Fatalf("the stored value is not JSON: %s", stored.Value)
	}
	for _, secret := range []string{"4111", "2000", "a1-secret", "b2-secret"} {
		if bytes.Contains(stored.Value, []byte(secret)) {
			t.Errorf("%s stored in clear: %s", secret, stored.Value)
		}
	}
	if !bytes.Contains(stored.Value, []byte(`"name":"ann", "card":"`)) || !bytes.HasSuffix(stored.Value, []byte(`}],"ok":true}`)) {
		t.Errorf("bytes around the fields changed: %s", stored.Value)
	}
	want := []string{"value:card", "value:salary", "value:items[0].card", "value:items[1].card"}
	if locs, _ := encryption.Locations(stored.Headers); !reflect.DeepEqual(locs, want) {
		t.Errorf("marker %v, want %v", locs, want)
	}

	out, fev := fetch(t, `{}`, "orders", enc)
	got := read(t, out.RecordBatches, kgo.CompressionCodecType(4))[0]
	if !bytes.Equal(got.Value, value) || len(got.Headers) != 0 || len(fev.List()) != 0 {
		t.Fatalf("decrypted %s headers %v events %s, want %s", got.Value, got.Headers, fev, value)
	}

	out, _ = fetch(t, `{"recordValueFields":["items[*].card"]}`, "orders", enc)
	got = read(t, out.RecordBatches, kgo.CompressionCodecType(4))[0]
	if !bytes.Contains(got.Value, []byte(`[{"card":"a1-secret"},{"card":"b2-secret"}]`)) || bytes.Contains(got.Value, []byte("4111")) {
		t.Errorf("selective decryption gave %s", got.Value)
	}
	if locs, _ := encryption.Locations(got.Headers); !reflect.DeepEqual(locs, want[:2]) {
		t.Errorf("marker after selective decryption %v, want %v", locs, want[:2])
	}
}

const orderSchema = `{"type":"record","name":"Order","namespace":"t","fields":[
	{"name":"id","type":"string"},
	{"name":"ssn","type":"string"},
	{"name":"amount","type":"int"},
	{"name":"rate","type":"double"},
	{"name":"note","type":["null","string"]},
	{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"street","type":"string"},{"name":"zip","type":"long"}]}},
	{"name":"tags","type":{"type":"map","values":"string"}}]}`

func TestAvroFieldsPreserveSchema(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("orders-value", 1, 9, sr.Schema{Schema: orderSchema, Type: sr.TypeAvro})
	s := avro.MustParse(orderSchema)
	order := map[string]any{"id": "o-1", "ssn": "123-45-6789", "amount": 2000, "rate": 0.25, "note": "keep",
		"address": map[string]any{"street": "1 Secret Road", "zip": int64(75001)}, "tags": map[string]any{"b": "2", "a": "1"}}
	body, err := avro.Marshal(s, order)
	if err != nil {
		t.Fatal(err)
	}
	var h sr.ConfluentHeader
	value, _ := h.AppendEncode(nil, 9, nil)
	value = append(value, body...)
	registry := `"schemaRegistryConfig":{"host":"` + reg.URL() + `"}`
	enc, code, ev := produce(t, `{`+registry+`,"recordValue":{"fields":[
		{"fieldName":"ssn","keySecretId":"in-memory-kms://customer-{{record.value.id}}"},
		{"fieldName":"amount","keySecretId":"in-memory-kms://pay"},
		{"fieldName":"rate","keySecretId":"in-memory-kms://pay"},
		{"fieldName":"address.street","keySecretId":"in-memory-kms://addr"},
		{"fieldName":"address.zip","keySecretId":"in-memory-kms://addr"}]}}`,
		"orders", recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: value}))
	if code != 0 {
		t.Fatalf("refused: %v %s", kerr.ErrorForCode(code), ev)
	}
	stored := read(t, enc, 0)[0]
	// A consumer of the backing cluster decodes the value with its schema.
	id, rest, err := h.DecodeID(stored.Value)
	if err != nil || id != 9 {
		t.Fatalf("schema id %d, %v", id, err)
	}
	var raw map[string]any
	if err := avro.Unmarshal(s, rest, &raw); err != nil {
		t.Fatalf("the stored value is not Avro of its schema: %v", err)
	}
	addr := raw["address"].(map[string]any)
	if raw["amount"] != math.MinInt32 || raw["rate"] != math.SmallestNonzeroFloat64 || addr["zip"] != int64(math.MinInt64) {
		t.Errorf("non-string fields not set to their minimum: %v", raw)
	}
	if raw["ssn"] == "123-45-6789" || !encryption.IsEnvelope(b64(t, raw["ssn"].(string))) || raw["id"] != "o-1" || raw["note"] != "keep" {
		t.Errorf("stored fields: %v", raw)
	}
	if bytes.Contains(stored.Value, []byte("Secret Road")) || bytes.Contains(stored.Value, []byte("123-45")) {
		t.Error("clear text stored")
	}
	var fieldHeaders []string
	for _, hd := range stored.Headers {
		if strings.HasPrefix(hd.Key, encryption.FieldHeader) {
			fieldHeaders = append(fieldHeaders, hd.Key)
		}
	}
	if !reflect.DeepEqual(fieldHeaders, []string{"strait.encryption.value:amount", "strait.encryption.value:rate", "strait.encryption.value:address.zip"}) {
		t.Errorf("field headers %v", fieldHeaders)
	}

	out, fev := fetch(t, `{`+registry+`}`, "orders", enc)
	got := read(t, out.RecordBatches, 0)[0]
	if !bytes.Equal(got.Value, value) || len(got.Headers) != 0 || len(fev.List()) != 0 {
		t.Fatalf("decrypted to %x (headers %v, events %s), want the original bytes %x", got.Value, got.Headers, fev, value)
	}
	if out, fev := fetch(t, `{}`, "orders", enc); !bytes.Equal(out.RecordBatches, enc) || fev.Actions() != "DECRYPT_FAILED" {
		t.Errorf("without a registry: records changed or no report (%s)", fev)
	}
}

func TestFieldRefusals(t *testing.T) {
	var h sr.ConfluentHeader
	framed, _ := h.AppendEncode(nil, 3, []int{0})
	framed = append(framed, 0x0a, 0x01, 'x')
	fieldsCfg := `"recordValue":{"fields":[{"fieldName":"a","keySecretId":"in-memory-kms://k"}]}`
	for name, c := range map[string]struct {
		config string
		value  []byte
	}{
		"framed without a registry": {`{` + fieldsCfg + `}`, framed},
		"not JSON":                  {`{` + fieldsCfg + `}`, []byte("a plain secret")},
	} {
		t.Run(name, func(t *testing.T) {
			_, code, _ := produce(t, c.config, "orders", recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: c.value}))
			if code != kerr.InvalidRecord.Code {
				t.Errorf("code %v, want INVALID_RECORD", kerr.ErrorForCode(code))
			}
		})
	}
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%q is not base64", s)
	}
	return b
}

func TestRegistryOutageIsRetriable(t *testing.T) {
	var h sr.ConfluentHeader
	framed, _ := h.AppendEncode(nil, 9, nil)
	framed = append(framed, 2, 'x')
	_, code, ev := produce(t, `{"schemaRegistryConfig":{"host":"http://127.0.0.1:1"},
		"recordValue":{"fields":[{"fieldName":"a","keySecretId":"in-memory-kms://k"}]}}`,
		"orders", recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: framed}))
	if code != kerr.NotEnoughReplicas.Code || ev.Actions() != "ENCRYPT_FAILED" {
		t.Errorf("code %v, events %s; want NOT_ENOUGH_REPLICAS so producers retry", kerr.ErrorForCode(code), ev)
	}
}

const paymentProto = `syntax = "proto3";
package t;
message Payment {
  string id = 1;
  string card = 2;
  int32 amount = 3;
  Address address = 4;
}
message Address { string street = 1; int64 zip = 2; }`

func TestProtobufFields(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("payments-value", 1, 3, sr.Schema{Schema: paymentProto, Type: sr.TypeProtobuf})
	files, err := (&protocompile.Compiler{Resolver: &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(
		map[string]string{"p.proto": paymentProto})}}).Compile(context.Background(), "p.proto")
	if err != nil {
		t.Fatal(err)
	}
	md := files[0].Messages().ByName("Payment")
	msg := dynamicpb.NewMessage(md)
	set := func(m protoreflect.Message, name string, v any) {
		m.Set(m.Descriptor().Fields().ByName(protoreflect.Name(name)), protoreflect.ValueOf(v))
	}
	set(msg, "id", "p-1")
	set(msg, "card", "4111-1111")
	set(msg, "amount", int32(2000))
	addr := msg.Mutable(md.Fields().ByName("address")).Message()
	set(addr, "street", "1 Secret Road")
	set(addr, "zip", int64(75001))
	body, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var h sr.ConfluentHeader
	value, _ := h.AppendEncode(nil, 3, []int{0})
	value = append(value, body...)
	registry := `"schemaRegistryConfig":{"host":"` + reg.URL() + `"}`
	enc, code, ev := produce(t, `{`+registry+`,"recordValue":{"fields":[
		{"fieldName":"card","keySecretId":"in-memory-kms://pay-{{record.value.id}}"},
		{"fieldName":"amount","keySecretId":"in-memory-kms://pay"},
		{"fieldName":"address.street","keySecretId":"in-memory-kms://addr"}]}}`,
		"payments", recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: value}))
	if code != 0 {
		t.Fatalf("refused: %v %s", kerr.ErrorForCode(code), ev)
	}
	stored := read(t, enc, 0)[0]
	if bytes.Contains(stored.Value, []byte("4111")) || bytes.Contains(stored.Value, []byte("Secret Road")) {
		t.Fatal("clear text stored")
	}
	// A consumer of the backing cluster decodes the value with its schema.
	index, rest, err := h.DecodeIndex(stored.Value[5:], 8)
	if err != nil || len(index) != 1 || index[0] != 0 {
		t.Fatalf("message indexes %v, %v", index, err)
	}
	got := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(rest, got); err != nil {
		t.Fatalf("the stored value is not a Payment: %v", err)
	}
	fields := md.Fields()
	if got.Get(fields.ByName("amount")).Int() != math.MinInt32 || got.Get(fields.ByName("id")).String() != "p-1" ||
		!encryption.IsEnvelope(b64(t, got.Get(fields.ByName("card")).String())) {
		t.Errorf("stored payment: %v", got)
	}

	out, fev := fetch(t, `{`+registry+`}`, "payments", enc)
	dec := read(t, out.RecordBatches, 0)[0]
	if !bytes.Equal(dec.Value, value) || len(dec.Headers) != 0 || len(fev.List()) != 0 {
		t.Fatalf("decrypted to %x (events %s), want the original bytes %x", dec.Value, fev, value)
	}
}
