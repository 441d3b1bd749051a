package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/encryption"
)

// encryptionTenant starts a SASL gateway node with one virtual cluster
// whose records EncryptPlugin encrypts for everyone and DecryptPlugin
// decrypts for the reader account only.
func encryptionTenant(t *testing.T, vc, encrypt string) (addr string, tokens map[string]string) {
	t.Helper()
	srv := saslNodes(t, 1)[0]
	return srv.KafkaAddr(), kmsTenant(t, srv, vc, encrypt, `{}`)
}

// rawRecords reads n records of a backing topic directly.
func rawRecords(t *testing.T, ctx context.Context, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(single.direct, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d raw records of %s", len(out), n, topic)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("raw fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// TestEncryptionFullPayload: a Java producer writes through the gateway;
// the backing cluster holds only ciphertext; the reader (in
// DecryptPlugin's scope) reads the records back with librdkafka exactly
// as written, the outsider reads what the broker stores.
func TestEncryptionFullPayload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	addr, tokens := encryptionTenant(t, "vc-enc", `{
		"recordValue":{"payload":{"keySecretId":"in-memory-kms://orders-{{record.topic}}","algorithm":"AES256_GCM"}},
		"recordKey":{"payload":{"keySecretId":"in-memory-kms://keys"}},
		"recordHeader":{"header":"ssn","payload":{"keySecretId":"in-memory-kms://headers","algorithm":"XCHACHA20_POLY1305"}}}`)
	topic := fmt.Sprintf("orders-%d", time.Now().UnixNano()%1e9)
	const n = 40
	javaClient.produce(t, addr, topic, "secret", n, javaPlain("writer", tokens["writer"])...)

	raw := rawRecords(t, ctx, "vc-enc."+topic, n)
	for _, r := range raw {
		all := append(append(append([]byte{}, r.Key...), r.Value...), headerBytes(r)...)
		if bytes.Contains(all, []byte("secret-")) || bytes.Contains(all, []byte("key-")) {
			t.Fatalf("the backing cluster holds clear data at offset %d: key %q value %q", r.Offset, r.Key, r.Value)
		}
		if !encryption.IsEnvelope(r.Value) || !encryption.IsEnvelope(r.Key) {
			t.Fatalf("offset %d: value or key is not an envelope", r.Offset)
		}
	}

	got := kcatClient.consume(t, addr, topic, "readers", n, kcatLogin("PLAIN", "reader", tokens["reader"])...)
	checkRecords(t, got, "secret", n)
	for _, r := range got {
		if !strings.HasPrefix(r.K, "key-") {
			t.Fatalf("reader got key %q, want the clear key", r.K)
		}
	}

	outside := plainClient(t, addr, "outsider", tokens["outsider"])
	for _, r := range readTopic(t, ctx, outside, topic, n) {
		if strings.Contains(r.V, "secret-") || !encryption.IsEnvelope([]byte(r.V)) {
			t.Fatalf("the outsider read %q at offset %d, want ciphertext", r.V, r.O)
		}
	}
}

func headerBytes(r *kgo.Record) []byte {
	var b []byte
	for _, h := range r.Headers {
		b = append(append(b, h.Key...), h.Value...)
	}
	return b
}
