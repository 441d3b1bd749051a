package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/strait-gateway/strait/encryption"
)

// avroRawReader decodes raw records with confluent-kafka's AvroDeserializer.
var avroRawReader = external{"avro-raw-reader", []string{".cache/venv/bin/python", "e2e/clients/python/avro_raw_reader.py"}}

// encAvroSchema marks ssn (its own key, per customer), age (a listed tag)
// and every card number (an algorithm, the default key) for encryption.
const encAvroSchema = `{"type":"record","name":"Customer","namespace":"e2e","fields":[
	{"name":"id","type":"string"},
	{"name":"ssn","type":"string","conduktor.keySecretId":"in-memory-kms://pii-{{record.value.id}}"},
	{"name":"age","type":"int","conduktor.tags":["PII"]},
	{"name":"city","type":"string","conduktor.tags":["PUBLIC"]},
	{"name":"cards","type":{"type":"array","items":{"type":"record","name":"Card","fields":[
		{"name":"number","type":"string","conduktor.algorithm":"AES256_GCM"},{"name":"brand","type":"string"}]}}}]}`

// TestEncryptionAvro: a producer writes Confluent-framed Avro through the
// gateway, whose EncryptSchemaBasedPlugin encrypts the fields the
// registered schema marks. A confluent-kafka consumer of the backing
// cluster still decodes every value with the registry and sees ciphertext
// in the marked fields; the reader, in DecryptPlugin's scope, gets the
// exact bytes written.
func TestEncryptionAvro(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	url, reg := maskingRegistry(t)

	const vc = "vc-encavro"
	srv := saslNodes(t, 1)[0]
	tokens := map[string]string{}
	for _, user := range []string{"writer", "reader"} {
		tenant(t, srv, vc, user)
		tokens[user], _ = token(t, srv, vc, user, time.Hour)
	}
	apply(t, srv,
		fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"encrypt-schema","scope":{"vCluster":%q}},
			"spec":{"pluginClass":"io.conduktor.gateway.interceptor.EncryptSchemaBasedPlugin","priority":100,
			"config":{"schemaRegistryConfig":{"host":%q},"tags":["PII"],"defaultKeySecretId":"in-memory-kms://customers"}}}`, vc, url),
		fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"decrypt","scope":{"vCluster":%q,"username":"reader"}},
			"spec":{"pluginClass":"DecryptPlugin","priority":100,"config":{"schemaRegistryConfig":{"host":%q}}}}`, vc, url))
	addr := srv.KafkaAddr()

	// Clients of the virtual cluster name the topic without its prefix, so
	// the schema lives under that subject.
	topic := fmt.Sprintf("customers-%d", time.Now().UnixNano()%1e9)
	ss, err := reg.CreateSchema(ctx, topic+"-value", sr.Schema{Schema: encAvroSchema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	writer := plainClient(t, addr, "writer", tokens["writer"])
	if _, err := kadm.NewClient(writer).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	s := avro.MustParse(encAvroSchema)
	const n = 5
	var written [][]byte
	for i := range n {
		body, err := avro.Marshal(s, map[string]any{"id": fmt.Sprint("c", i), "ssn": fmt.Sprintf("123-45-678%d", i), "age": 30 + i, "city": "Lyon",
			"cards": []any{map[string]any{"number": fmt.Sprint("411111111111111", i), "brand": "visa"}}})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := new(sr.ConfluentHeader).AppendEncode(nil, ss.ID, nil)
		v = append(v, body...)
		written = append(written, v)
		if err := writer.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: fmt.Append(nil, "k", i), Value: v}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}

	// (1) The backing topic, read past the gateway by a Confluent
	// deserializer with the registry.
	out := avroRawReader.run(t, "--bootstrap", single.direct, "--topic", vc+"."+topic, "--registry", url, "--count", fmt.Sprint(n))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n {
		t.Fatalf("the reader decoded %d records, want %d:\n%s", len(lines), n, out)
	}
	for _, line := range lines {
		var r struct {
			O     int64
			Value struct {
				ID, SSN, City string
				Age           int64
				Cards         []struct{ Number, Brand string }
			}
			Headers []string
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("reader line %q: %v", line, err)
		}
		v, i := r.Value, r.O
		if v.ID != fmt.Sprint("c", i) || v.City != "Lyon" || len(v.Cards) != 1 || v.Cards[0].Brand != "visa" {
			t.Errorf("offset %d: clear fields changed: %+v", i, v)
		}
		if v.Age != math.MinInt32 {
			t.Errorf("offset %d: age holds %d, want %d", i, v.Age, math.MinInt32)
		}
		for name, text := range map[string]string{"ssn": v.SSN, "cards[0].number": v.Cards[0].Number} {
			env, err := base64.StdEncoding.DecodeString(text)
			if err != nil || !encryption.IsEnvelope(env) || strings.Contains(text, "123-45") || strings.Contains(text, "4111") {
				t.Errorf("offset %d: %s holds %q, want base64 ciphertext", i, name, text)
			}
		}
		if !strings.Contains(strings.Join(r.Headers, ","), encryption.FieldHeader+"value:age") {
			t.Errorf("offset %d: headers %v lack the age's ciphertext", i, r.Headers)
		}
	}
	raw := rawRecords(t, ctx, vc+"."+topic, n)
	for _, r := range raw {
		if bytes.Contains(r.Value, []byte("123-45")) || bytes.Contains(r.Value, []byte("4111")) {
			t.Fatalf("offset %d stored in clear: %q", r.Offset, r.Value)
		}
	}

	// (2) The reader, through the gateway, gets the bytes written.
	got := readTopic(t, ctx, plainClient(t, addr, "reader", tokens["reader"]), topic, n)
	for _, r := range got {
		if r.V != string(written[r.O]) {
			t.Errorf("offset %d: the reader got %x, want %x", r.O, r.V, written[r.O])
		}
	}
}
