package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/encryption"
)

// shredKeys crypto-shreds a key id the way an operator would, with a plain
// producer: it reads the keys topic to its end and writes a tombstone for
// every record of the key id, repeating the record key byte for byte.
func shredKeys(t *testing.T, ctx context.Context, topic, keyID string) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(single.direct, ",")...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	var keys [][]byte
	for next := int64(0); next < end.Offset; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s up to %d: at %d", topic, end.Offset, next)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch %s: %v", topic, err) })
		fs.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			var k struct{ KeyID string }
			if json.Unmarshal(r.Key, &k) == nil && k.KeyID == keyID && r.Value != nil {
				keys = append(keys, r.Key)
			}
		})
	}
	for _, k := range keys {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Key: k, Value: nil}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return len(keys)
}

// TestEncryptionGatewayKMS: data keys made by one gateway node live in
// the cluster's keys topic, so another node decrypts with them; once an
// operator tombstones a customer's keys, that customer's records stay
// encrypted everywhere while the others still decrypt.
func TestEncryptionGatewayKMS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clusterID := fmt.Sprintf("gwkms%d", time.Now().UnixNano()%1e9)
	nodes := saslCluster(t, clusterID, 2)
	const vc = "vc-gwkms"
	// The master key is an in-memory key: it lives in this process, which
	// runs both nodes, so they share it. Separate processes would need a
	// real KMS (vault-kms://, aws-kms://, ...) for the master key.
	const kmsConfig = `{"gateway":{"masterKeyId":"in-memory-kms://gwkms-master"}}`
	tokens := map[string]string{}
	for _, n := range nodes {
		for _, user := range []string{"writer", "reader"} {
			tenant(t, n, vc, user)
		}
		// PUT on each node returns once that node has the resource in force.
		apply(t, n,
			fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"encrypt","scope":{"vCluster":%q}},
				"spec":{"pluginClass":"EncryptPlugin","priority":100,"config":{
					"recordValue":{"payload":{"keySecretId":"gateway-kms://customer-{{record.key}}","algorithm":"AES256_GCM"}},
					"kmsConfig":%s}}}`, vc, kmsConfig),
			fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"decrypt","scope":{"vCluster":%q,"username":"reader"}},
				"spec":{"pluginClass":"DecryptPlugin","priority":100,"config":{"kmsConfig":%s}}}`, vc, kmsConfig))
	}
	for _, user := range []string{"writer", "reader"} {
		tokens[user], _ = token(t, nodes[0], vc, user, time.Hour)
	}

	topic := fmt.Sprintf("customers-%d", time.Now().UnixNano()%1e9)
	writer := plainClient(t, nodes[0].KafkaAddr(), "writer", tokens["writer"])
	if resp, err := kadm.NewClient(writer).CreateTopic(ctx, 1, 1, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}
	const perCustomer = 6
	for i := range perCustomer {
		for _, c := range []string{"a", "b"} {
			r := &kgo.Record{Topic: topic, Key: []byte(c), Value: fmt.Appendf(nil, "secret-%s-%d", c, i)}
			if err := writer.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("produce through node 1: %v", err)
			}
		}
	}
	const n = 2 * perCustomer

	for _, r := range rawRecords(t, ctx, vc+"."+topic, n) {
		if strings.Contains(string(r.Value), "secret-") || !encryption.IsEnvelope(r.Value) {
			t.Fatalf("the backing cluster holds %q at offset %d, want an envelope", r.Value, r.Offset)
		}
	}

	// read returns what the reader gets through node 2, by customer.
	reader := plainClient(t, nodes[1].KafkaAddr(), "reader", tokens["reader"])
	read := func() map[string][]string {
		by := map[string][]string{}
		for _, r := range readTopic(t, ctx, reader, topic, n) {
			by[r.K] = append(by[r.K], r.V)
		}
		return by
	}
	for c, vs := range read() {
		for _, v := range vs {
			if !strings.HasPrefix(v, "secret-"+c+"-") {
				t.Fatalf("node 2 gave the reader %q for customer %s, want it decrypted", v, c)
			}
		}
	}

	keysTopic := "_strait_" + clusterID + "_keys"
	if got := shredKeys(t, ctx, keysTopic, "customer-a"); got < 1 {
		t.Fatalf("no data key of customer-a in %s", keysTopic)
	}
	// Node 2 holds customer a's data key from the first read; it must stop
	// using it once it has read the tombstones.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		by := read()
		shredded := true
		for _, v := range by["a"] {
			shredded = shredded && !strings.Contains(v, "secret-") && encryption.IsEnvelope([]byte(v))
		}
		for _, v := range by["b"] {
			if !strings.HasPrefix(v, "secret-b-") {
				t.Fatalf("after shredding a, node 2 gave %q for customer b, want it decrypted", v)
			}
		}
		if len(by["a"]) != perCustomer || len(by["b"]) != perCustomer {
			t.Fatalf("read %d records of a and %d of b, want %d each", len(by["a"]), len(by["b"]), perCustomer)
		}
		if shredded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("customer a's records still decrypt after shredding: %q", by["a"])
		}
	}
}
