package decrypt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/records/recordstest"
)

func TestProduceRefusals(t *testing.T) {
	rec := kmsg.Record{Key: []byte("k"), Value: []byte("secret-value")}
	magic1 := recordstest.Batch(t, kgo.NoCompression(), rec)
	magic1[16] = 1
	for _, c := range []struct {
		name, config string
		data         []byte
		code         int16
	}{
		{"KMS not configured", `{"recordValue":{"payload":{"keySecretId":"azure-kms://myvault.vault.azure.net/keys/k"}}}`,
			recordstest.Batch(t, kgo.NoCompression(), rec), kerr.NotEnoughReplicas.Code},
		{"template names a missing header", `{"recordValue":{"payload":{"keySecretId":"in-memory-kms://t-{{record.header.tenant}}"}}}`,
			recordstest.Batch(t, kgo.NoCompression(), rec), kerr.InvalidRecord.Code},
		{"template value would leave the key name", `{"recordValue":{"payload":{"keySecretId":"in-memory-kms://t-{{record.header.tenant}}"}}}`,
			recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: []byte("secret-value"), Headers: []kmsg.Header{{Key: "tenant", Value: []byte("../other")}}}), kerr.InvalidRecord.Code},
		{"old message format", `{"recordValue":{"payload":{"keySecretId":"in-memory-kms://k"}}}`, magic1, kerr.InvalidRecord.Code},
		{"already marked", `{"recordValue":{"payload":{"keySecretId":"in-memory-kms://k"}}}`,
			recordstest.Batch(t, kgo.NoCompression(), kmsg.Record{Value: []byte("secret-value"), Headers: []kmsg.Header{{Key: "strait.encryption", Value: []byte(`["key"]`)}}}), kerr.InvalidRecord.Code},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, code, ev := produce(t, c.config, "orders", c.data)
			if code != c.code {
				t.Fatalf("code %v, want %v", kerr.ErrorForCode(code), kerr.ErrorForCode(c.code))
			}
			if out != nil && bytes.Contains(out, []byte("secret-value")) {
				t.Fatal("the clear record went on")
			}
			if ev.Actions() != string(interceptor.EncryptFailed) {
				t.Errorf("events %s, want one %s", ev, interceptor.EncryptFailed)
			}
		})
	}
}

func TestDecryptFailures(t *testing.T) {
	orig := sample()
	enc, code, _ := produce(t, allAES128(), "orders", recordstest.Batch(t, kgo.NoCompression(), orig...))
	if code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	t.Run("moved to another topic, return_encrypted", func(t *testing.T) {
		out, ev := fetch(t, `{}`, "payments", enc)
		if out.ErrorCode != 0 || !bytes.Equal(out.RecordBatches, enc) {
			t.Fatal("the records did not go on encrypted and unchanged")
		}
		if ev.Actions() != string(interceptor.DecryptFailed) || !strings.Contains(ev.List()[0].Reason, "7 items left encrypted") {
			t.Errorf("events %v", ev.List())
		}
	})
	t.Run("moved to another topic, fail_fetch", func(t *testing.T) {
		out, ev := fetch(t, `{"errorPolicy":"fail_fetch"}`, "payments", enc)
		if out.ErrorCode != kerr.PolicyViolation.Code || out.RecordBatches != nil {
			t.Fatalf("code %d, %d bytes", out.ErrorCode, len(out.RecordBatches))
		}
		if ev.Actions() != string(interceptor.DecryptFailed) {
			t.Errorf("events %s", ev)
		}
	})
	t.Run("selective: only the ssn header", func(t *testing.T) {
		out, _ := fetch(t, `{"recordValueFields":["nothing"],"recordKeyFields":["nothing"],"recordHeaderFields":["ssn"]}`, "orders", enc)
		got := read(t, out.RecordBatches, kgo.CompressionCodecType(0))
		if string(got[0].Headers[0].Value) != "123-45-6789" || bytes.Contains(got[0].Value, []byte("4111")) || string(got[0].Key) == "customer-1" {
			t.Errorf("record 0: key %q value %q headers %v", got[0].Key, got[0].Value, got[0].Headers)
		}
		if string(got[0].Headers[2].Value) != `["value","key"]` {
			t.Errorf("marker %q, want the value and key still listed", got[0].Headers[2].Value)
		}
	})
	t.Run("out of scope topic", func(t *testing.T) {
		out, ev := fetch(t, `{"topic":"other"}`, "orders", enc)
		if !bytes.Equal(out.RecordBatches, enc) || len(ev.List()) != 0 {
			t.Error("a topic outside the pattern was touched")
		}
	})
}

func allAES128() string { return strings.Replace(everything, "%s", "AES128_GCM", 1) }

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ class, config, field string }{
		{"EncryptPlugin", `{}`, "recordValue"},
		{"EncryptPlugin", `{"recordValue":{"payload":{"keySecretId":"my-key"}}}`, "recordValue.payload.keySecretId"},
		{"EncryptPlugin", `{"recordValue":{"payload":{"keySecretId":"in-memory-kms://k","algorithm":"DES"}}}`, "recordValue.payload.algorithm"},
		{"EncryptPlugin", `{"recordValue":{"payload":{"keySecretId":"in-memory-kms://{{record.partition}}"}}}`, "recordValue.payload.keySecretId"},
		{"EncryptPlugin", `{"recordHeader":{"header":"x"}}`, "recordHeader.payload"},
		{"EncryptPlugin", `{"kmsConfig":{"keyTtlMs":-1},"recordValue":{"payload":{"keySecretId":"in-memory-kms://k"}}}`, "kmsConfig"},
		{"DecryptPlugin", `{"errorPolicy":"ignore"}`, "errorPolicy"},
		{"DecryptPlugin", `{"recordValueFields":["a..b"]}`, "recordValueFields"},
	} {
		err := interceptor.Validate(c.class, []byte(c.config))
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != c.field {
			t.Errorf("%s %s: %v, want an error on %s", c.class, c.config, err, c.field)
		}
	}
}
