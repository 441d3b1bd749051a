package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/kms/awskms/awstest"
	"github.com/strait-gateway/strait/encryption/kms/vaultkms/vaulttest"
	"github.com/strait-gateway/strait/server"
)

// kmsNode starts a SASL gateway node of a gateway cluster of its own and
// returns it with its audit topic.
func kmsNode(t *testing.T) (*server.Server, string) {
	t.Helper()
	requireReal(t)
	srv, cluster := auditSASLNode(t)
	return srv, "_strait_" + cluster + "_audit"
}

// kmsTenant declares a virtual cluster on srv whose records EncryptPlugin
// encrypts for everyone with the encrypt config, and DecryptPlugin, with
// the decrypt config, decrypts for the reader only. Unlike
// encryptionTenant's in-memory keys, KMS keys need a kmsConfig on the
// reading side too. It returns the tokens of writer, reader and outsider.
func kmsTenant(t *testing.T, srv *server.Server, vc, encrypt, decrypt string) map[string]string {
	t.Helper()
	tokens := map[string]string{}
	for _, user := range []string{"writer", "reader", "outsider"} {
		tenant(t, srv, vc, user)
		tokens[user], _ = token(t, srv, vc, user, time.Hour)
	}
	apply(t, srv,
		fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"encrypt","scope":{"vCluster":%q}},
			"spec":{"pluginClass":"EncryptPlugin","priority":100,"config":%s}}`, vc, encrypt),
		fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"decrypt","scope":{"vCluster":%q,"username":"reader"}},
			"spec":{"pluginClass":"DecryptPlugin","priority":100,"config":%s}}`, vc, decrypt))
	return tokens
}

// vaultKMSConfig is a kmsConfig reaching a fake Vault with its root token.
func vaultKMSConfig(v *vaulttest.Server, ttlMs int) string {
	return fmt.Sprintf(`{"keyTtlMs":%d,"vault":{"uri":%q,"token":%q}}`, ttlMs, v.URL, v.Token)
}

// createTopic creates a one-partition topic through a client.
func createTopic(t *testing.T, ctx context.Context, cl *kgo.Client, topic string) {
	t.Helper()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// sealedValues checks raw records of a backing topic: no plaintext of
// prefix anywhere, every value an envelope of keySecretID. It returns the
// envelopes.
func sealedValues(t *testing.T, raw []*kgo.Record, prefix, keySecretID string) []encryption.Envelope {
	t.Helper()
	var out []encryption.Envelope
	for _, r := range raw {
		all := append(append(append([]byte{}, r.Key...), r.Value...), headerBytes(r)...)
		if bytes.Contains(all, []byte(prefix+"-")) {
			t.Fatalf("the backing cluster holds clear data at offset %d: value %q", r.Offset, r.Value)
		}
		e, err := encryption.Parse(r.Value)
		if err != nil {
			t.Fatalf("offset %d: the value is not an envelope: %v", r.Offset, err)
		}
		if e.KeyID != keySecretID || len(e.Wrapped) == 0 {
			t.Fatalf("offset %d: envelope of key %q with a %d-byte wrapped DEK, want key %q", r.Offset, e.KeyID, len(e.Wrapped), keySecretID)
		}
		out = append(out, e)
	}
	return out
}

// distinctDEKs counts the different wrapped DEKs of envelopes.
func distinctDEKs(es []encryption.Envelope) int {
	seen := map[string]bool{}
	for _, e := range es {
		seen[string(e.Wrapped)] = true
	}
	return len(seen)
}

// readClear reads a topic through the gateway as a client until its n
// records are all clear (10 s at most: failed KMS calls are remembered
// for a second) and checks them.
func readClear(t *testing.T, ctx context.Context, cl *kgo.Client, topic, prefix string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs := readTopic(t, ctx, cl, topic, n)
		sealed := 0
		for _, r := range rs {
			if encryption.IsEnvelope([]byte(r.V)) {
				sealed++
			}
		}
		if sealed == 0 {
			checkRecords(t, rs, prefix, n)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records of %s still encrypted for the reader", sealed, len(rs), topic)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkSealed checks that records read through the gateway are all
// envelopes, never the plaintext.
func checkSealed(t *testing.T, rs []record, prefix string) {
	t.Helper()
	for _, r := range rs {
		if strings.Contains(r.V, prefix+"-") || !encryption.IsEnvelope([]byte(r.V)) {
			t.Fatalf("read %q at offset %d, want an envelope", r.V, r.O)
		}
	}
}

// endOffset returns the end offset of partition 0 of a backing topic.
func endOffset(t *testing.T, ctx context.Context, topic string) int64 {
	t.Helper()
	offs, err := kadm.NewClient(backingClient(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		t.Fatalf("end offset of %s/0: %v", topic, o.Err)
	}
	return o.Offset
}

// auditOf waits for events of a type about a topic of a virtual cluster
// in an audit topic and returns them.
func auditOf(t *testing.T, auditTopic, typ, vc, topic string) []auditRecord {
	t.Helper()
	match := func(d interceptorData) bool { return d.Principal.VCluster == vc && d.Topic == topic }
	all := readAudit(t, single.direct, auditTopic, func(all []auditRecord) bool {
		return len(eventsOf(t, all, typ, match)) > 0
	})
	return eventsOf(t, all, typ, match)
}

// TestEncryptionKMSVaultRotation: records produced through the gateway in
// two bursts further apart than keyTtlMs are wrapped by Vault Transit
// under at least two DEKs, each reused within its lifetime; the backing
// cluster holds no plaintext; the reader reads every record back exactly.
func TestEncryptionKMSVaultRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	vault := vaulttest.Start(t)
	srv, _ := kmsNode(t)
	valueKey, keyKey := "vault-kms://"+vault.KeyID("transit", "orders"), "vault-kms://"+vault.KeyID("transit", "ids")
	tokens := kmsTenant(t, srv, "vc-vault", fmt.Sprintf(`{"kmsConfig":%s,
		"recordValue":{"payload":{"keySecretId":%q,"algorithm":"AES256_GCM"}},
		"recordKey":{"payload":{"keySecretId":%q}}}`, vaultKMSConfig(vault, 1000), valueKey, keyKey),
		fmt.Sprintf(`{"kmsConfig":%s}`, vaultKMSConfig(vault, 60000)))
	topic := fmt.Sprintf("rotated-%d", time.Now().UnixNano()%1e9)
	writer := plainClient(t, srv.KafkaAddr(), "writer", tokens["writer"])
	createTopic(t, ctx, writer, topic)

	const burst = 10
	start := time.Now()
	for i := range 2 * burst {
		if i == burst {
			time.Sleep(1500 * time.Millisecond) // past keyTtlMs
		}
		r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key-%d", i%8), Value: fmt.Appendf(nil, "order-%d", i)}
		if err := writer.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	t.Logf("produced %d records in %v", 2*burst, time.Since(start))

	raw := rawRecords(t, ctx, "vc-vault."+topic, 2*burst)
	values := sealedValues(t, raw, "order", valueKey)
	for _, r := range raw {
		if e, err := encryption.Parse(r.Key); err != nil || e.KeyID != keyKey {
			t.Fatalf("offset %d: the key is not an envelope of %s (%v)", r.Offset, keyKey, err)
		}
	}
	deks := distinctDEKs(values)
	if deks < 2 || deks >= 2*burst {
		t.Fatalf("%d different wrapped DEKs over %d values, want at least 2 (rotation) and fewer than the records (reuse)", deks, 2*burst)
	}
	if first, last := values[0], values[len(values)-1]; bytes.Equal(first.Wrapped, last.Wrapped) {
		t.Fatal("the first and the last record share a DEK although keyTtlMs passed between them")
	}
	t.Logf("%d DEKs for %d values", deks, len(values))

	readClear(t, ctx, plainClient(t, srv.KafkaAddr(), "reader", tokens["reader"]), topic, "order", 2*burst)
	checkSealed(t, readTopic(t, ctx, plainClient(t, srv.KafkaAddr(), "outsider", tokens["outsider"]), topic, 2*burst), "order")
}

// logCapture is a franz-go logger that keeps every line.
type logCapture struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logCapture) Level() kgo.LogLevel { return kgo.LogLevelDebug }

func (l *logCapture) Log(_ kgo.LogLevel, msg string, kv ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(&l.b, append([]any{msg}, kv...)...)
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestEncryptionKMSVaultOutage: with Vault down and a KMS call per item,
// a produce through the gateway is answered NOT_ENOUGH_REPLICAS until the
// producer's delivery timeout (an idempotent producer may give up: the code
// says nothing was written), nothing reaches the backing topic, and an
// encryption.failed event is audited; the reader gets the records still
// encrypted. Once Vault is back the same producer writes, and the reader
// reads everything in clear.
func TestEncryptionKMSVaultOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	vault := vaulttest.Start(t)
	srv, auditTopic := kmsNode(t)
	const vc = "vc-outage"
	keyID := "vault-kms://" + vault.KeyID("transit", "orders")
	tokens := kmsTenant(t, srv, vc,
		fmt.Sprintf(`{"kmsConfig":%s,"recordValue":{"payload":{"keySecretId":%q}}}`, vaultKMSConfig(vault, 0), keyID),
		fmt.Sprintf(`{"kmsConfig":%s}`, vaultKMSConfig(vault, 0)))
	topic := fmt.Sprintf("outage-%d", time.Now().UnixNano()%1e9)
	physical := vc + "." + topic
	var logs logCapture
	writer := plainClient(t, srv.KafkaAddr(), "writer", tokens["writer"], kgo.DefaultProduceTopic(topic),
		kgo.RecordDeliveryTimeout(4*time.Second), kgo.WithLogger(&logs))
	reader := plainClient(t, srv.KafkaAddr(), "reader", tokens["reader"])
	createTopic(t, ctx, writer, topic)

	produce := func(i int) error {
		r := &kgo.Record{Key: fmt.Appendf(nil, "key-%d", i%8), Value: fmt.Appendf(nil, "order-%d", i)}
		return writer.ProduceSync(ctx, r).FirstErr()
	}
	const before = 3
	for i := range before {
		if err := produce(i); err != nil {
			t.Fatalf("produce %d with Vault up: %v", i, err)
		}
	}
	readClear(t, ctx, reader, topic, "order", before)

	vault.SetUnavailable(true)
	err := produce(before)
	if !errors.Is(err, kgo.ErrRecordTimeout) {
		t.Fatalf("produce with Vault down: err %v, want the delivery timeout", err)
	}
	if !strings.Contains(logs.String(), "NOT_ENOUGH_REPLICAS") {
		t.Fatalf("the producer never saw NOT_ENOUGH_REPLICAS; its log:\n%s", tail(logs.String()))
	}
	if n := endOffset(t, ctx, physical); n != before {
		t.Fatalf("%s ends at offset %d with Vault down, want %d: a refused record was written", physical, n, before)
	}
	failed := auditOf(t, auditTopic, "io.strait.encryption.failed", vc, topic)
	d := decodeData[interceptorData](t, failed[0])
	if d.Principal.Username != "writer" || d.Reason == "" || strings.Contains(string(failed[0].rec.Value), vault.Token) {
		t.Fatalf("encryption.failed event: %s", failed[0].rec.Value)
	}
	t.Logf("encryption.failed: %s", d.Reason)

	// Decryption with Vault down: a KMS call per item (keyTtlMs 0) fails,
	// and the records go to the reader as the broker stores them.
	sealed := readTopic(t, ctx, reader, topic, before)
	if len(sealed) != before {
		t.Fatalf("the reader got %d records with Vault down, want %d", len(sealed), before)
	}
	checkSealed(t, sealed, "order")
	auditOf(t, auditTopic, "io.strait.decryption.failed", vc, topic)

	vault.SetUnavailable(false)
	if err := produce(before); err != nil {
		t.Fatalf("produce once Vault is back: %v", err)
	}
	if n := endOffset(t, ctx, physical); n != before+1 {
		t.Fatalf("%s ends at offset %d, want %d", physical, n, before+1)
	}

	// A producer with default settings retries through a short outage:
	// its record is written once, when Vault is back.
	retrier := plainClient(t, srv.KafkaAddr(), "writer", tokens["writer"], kgo.DefaultProduceTopic(topic))
	vault.SetUnavailable(true)
	done := make(chan error, 1)
	retrier.Produce(ctx, &kgo.Record{Key: fmt.Appendf(nil, "key-%d", (before+1)%8), Value: fmt.Appendf(nil, "order-%d", before+1)},
		func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		t.Fatalf("produce finished with Vault down: %v", err)
	case <-time.After(2 * time.Second):
	}
	vault.SetUnavailable(false)
	if err := <-done; err != nil {
		t.Fatalf("retried produce once Vault is back: %v", err)
	}
	if n := endOffset(t, ctx, physical); n != before+2 {
		t.Fatalf("%s ends at offset %d after the retried produce, want %d", physical, n, before+2)
	}
	readClear(t, ctx, reader, topic, "order", before+2)
}

// TestEncryptionKMSAWS: the round trip with aws-kms:// keys, against
// local-kms and against moto: ciphertext in the backing cluster, under
// the key created there, clear records for the reader.
func TestEncryptionKMSAWS(t *testing.T) {
	srv, _ := kmsNode(t)
	for _, c := range []struct {
		name  string
		start func(testing.TB) *awstest.Server
	}{{"local-kms", awstest.LocalKMS}, {"moto", awstest.Moto}} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			aws := c.start(t)
			keyID := "aws-kms://" + aws.CreateKey(t)
			cfg, err := json.Marshal(map[string]any{"aws": aws.Config()})
			if err != nil {
				t.Fatal(err)
			}
			vc := "vc-" + c.name
			tokens := kmsTenant(t, srv, vc,
				fmt.Sprintf(`{"kmsConfig":%s,"recordValue":{"payload":{"keySecretId":%q,"algorithm":"XCHACHA20_POLY1305"}}}`, cfg, keyID),
				fmt.Sprintf(`{"kmsConfig":%s}`, cfg))
			topic := fmt.Sprintf("aws-%d", time.Now().UnixNano()%1e9)
			writer := plainClient(t, srv.KafkaAddr(), "writer", tokens["writer"])
			createTopic(t, ctx, writer, topic)
			const n = 10
			produceRecords(t, ctx, writer, topic, "order", n)

			values := sealedValues(t, rawRecords(t, ctx, vc+"."+topic, n), "order", keyID)
			if deks := distinctDEKs(values); deks != 1 {
				t.Fatalf("%d DEKs for %d values within one keyTtlMs, want 1", deks, n)
			}
			readClear(t, ctx, plainClient(t, srv.KafkaAddr(), "reader", tokens["reader"]), topic, "order", n)
		})
	}
}

// TestEncryptionKMSMovedRecords: encrypted records copied byte for byte
// from one topic to another on the backing cluster stay encrypted for the
// reader of the second topic (the topic is authenticated with each item),
// while the reader of the first reads them in clear.
func TestEncryptionKMSMovedRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	vault := vaulttest.Start(t)
	srv, auditTopic := kmsNode(t)
	const vc = "vc-moved"
	cfg := vaultKMSConfig(vault, 60000)
	tokens := kmsTenant(t, srv, vc,
		fmt.Sprintf(`{"kmsConfig":%s,"recordValue":{"payload":{"keySecretId":%q}}}`, cfg, "vault-kms://"+vault.KeyID("transit", "orders")),
		fmt.Sprintf(`{"kmsConfig":%s}`, cfg))
	suffix := time.Now().UnixNano() % 1e9
	from, to := fmt.Sprintf("from-%d", suffix), fmt.Sprintf("to-%d", suffix)
	writer := plainClient(t, srv.KafkaAddr(), "writer", tokens["writer"])
	createTopic(t, ctx, writer, from)
	const n = 5
	produceRecords(t, ctx, writer, from, "order", n)

	backing := backingClient(t)
	createTopic(t, ctx, backing, vc+"."+to)
	for _, r := range rawRecords(t, ctx, vc+"."+from, n) {
		cp := &kgo.Record{Topic: vc + "." + to, Key: r.Key, Value: r.Value, Headers: r.Headers}
		if err := backing.ProduceSync(ctx, cp).FirstErr(); err != nil {
			t.Fatalf("copy offset %d: %v", r.Offset, err)
		}
	}

	reader := plainClient(t, srv.KafkaAddr(), "reader", tokens["reader"])
	readClear(t, ctx, reader, from, "order", n)
	moved := readTopic(t, ctx, reader, to, n)
	if len(moved) != n {
		t.Fatalf("the reader got %d moved records, want %d", len(moved), n)
	}
	checkSealed(t, moved, "order")
	auditOf(t, auditTopic, "io.strait.decryption.failed", vc, to)
}
