package encrypt_test

import (
	"fmt"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/strait-gateway/strait/records/recordstest"
)

// benchCustomer is a 15-field customer record, three of whose fields
// (a string, an int and a nested string) the benchmark encrypts.
const benchCustomer = `{"type":"record","name":"Customer","namespace":"bench","fields":[
	{"name":"id","type":"string"},{"name":"name","type":"string"},{"name":"email","type":"string"},
	{"name":"ssn","type":"string"},{"name":"age","type":"int"},{"name":"balance","type":"double"},
	{"name":"active","type":"boolean"},{"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"country","type":"string"},{"name":"phone","type":["null","string"]},
	{"name":"tags","type":{"type":"array","items":"string"}},{"name":"score","type":"float"},
	{"name":"segment","type":{"type":"enum","name":"Segment","symbols":["RETAIL","PRO"]}},
	{"name":"notes","type":"string"},
	{"name":"address","type":{"type":"record","name":"Address","fields":[
		{"name":"street","type":"string"},{"name":"city","type":"string"},{"name":"zip","type":"string"}]}}]}`

// BenchmarkEncryptAvroFields encrypts three fields of Confluent-framed Avro
// values (preserve_avro: same schema, the int's ciphertext in a header);
// run with -cpu 1 for records per second per core.
func BenchmarkEncryptAvroFields(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("customers-value", 1, 5, sr.Schema{Schema: benchCustomer, Type: sr.TypeAvro})
	s := avro.MustParse(benchCustomer)
	recs := make([]kmsg.Record, benchRecords)
	for i := range recs {
		body, err := avro.Marshal(s, map[string]any{
			"id": fmt.Sprint("c-", i), "name": "Ann Example", "email": "ann@example.com", "ssn": "123-45-6789",
			"age": 42, "balance": 1234.5, "active": true, "created": int64(1_700_000_000_000), "country": "FR",
			"phone": "+33 1 23 45 67 89", "tags": []any{"vip", "eu"}, "score": float32(0.5), "segment": "PRO",
			"notes": "likes long walks", "address": map[string]any{"street": "1 Rue Secret", "city": "Paris", "zip": "75001"},
		})
		if err != nil {
			b.Fatal(err)
		}
		var h sr.ConfluentHeader
		v, _ := h.AppendEncode(nil, 5, nil)
		recs[i] = kmsg.Record{Value: append(v, body...)}
	}
	data := recordstest.Batch(b, kgo.NoCompression(), recs...)
	ch := benchChain(b, "EncryptPlugin", `{"schemaRegistryConfig":{"host":"`+reg.URL()+`"},"recordValue":{"fields":[
		{"fieldName":"ssn","keySecretId":"in-memory-kms://pii"},
		{"fieldName":"age","keySecretId":"in-memory-kms://pii"},
		{"fieldName":"address.street","keySecretId":"in-memory-kms://pii"}]}}`)
	if enc := values(b, produceThrough(b, ch, data)); len(enc) != benchRecords || string(enc[0]) == string(recs[0].Value) {
		b.Fatal("the values were not encrypted")
	}
	b.ReportAllocs()
	for b.Loop() {
		produceThrough(b, ch, data)
	}
	b.ReportMetric(float64(b.N)*benchRecords/b.Elapsed().Seconds(), "records/s")
}
