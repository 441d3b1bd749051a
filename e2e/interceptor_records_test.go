package e2e

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/records"
)

// kcatHeaders reads n records of a topic from the start with kcat itself
// and returns each record's headers as kcat prints them (k=v,k=v).
func kcatHeaders(t *testing.T, addr, topic string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kcat", "-C", "-b", addr, "-t", topic, "-o", "beginning",
		"-c", strconv.Itoa(n), "-e", "-q", "-f", "%h|%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat consume %s: %v\n%s", topic, err, tail(string(out)))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != n {
		t.Fatalf("kcat read %d records of %s, want %d:\n%s", len(lines), topic, n, tail(string(out)))
	}
	return lines
}

// storedBatches fetches partition 0 of a topic straight from the backing
// broker and returns the headers of its record batches, as stored.
func storedBatches(t *testing.T, ctx context.Context, topic string) []records.Batch {
	t.Helper()
	cl := backingClient(t)
	details, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MaxBytes = 100, 50<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, details[topic].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 50 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var out []records.Batch
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				t.Fatalf("fetch %s: %v", topic, err)
			}
			if err := records.Read(p.RecordBatches, func(b *records.Batch) error { out = append(out, *b); return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// TestRecordsHeaderInjection produces through DynamicHeaderInjection with
// kcat (lz4) and an idempotent Java producer (zstd): a kcat consumer of
// the backing cluster sees the headers on every record, the batches stay
// compressed with the producer's codec and keep the Java producer's id,
// and the idempotent producer wrote every record exactly once, in order.
func TestRecordsHeaderInjection(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kcatTopic := newTopic(t, single, "hdrinj-kcat", 1)
	javaTopic := newTopic(t, single, "hdrinj-java", 1)
	other := newTopic(t, single, "plain-inj", 1)
	policy(t, "records-inject", "io.conduktor.gateway.interceptor.DynamicHeaderInjectionPlugin",
		`{"topic":"hdrinj-.*","headers":{"x-ip":"{{userIp}}","x-api":"{{apiKey}}","x-origin":"strait"}}`)

	kcatClient.produce(t, single.gatewayAddr(), kcatTopic, "kcat", 50, "--compression", "lz4")
	kcatClient.produce(t, single.gatewayAddr(), other, "kcat", 5)
	javaClient.produce(t, single.gatewayAddr(), javaTopic, "java", 400, "--compression", "zstd", "--idempotent")

	for _, topic := range []string{kcatTopic, javaTopic} {
		n := map[string]int{kcatTopic: 50, javaTopic: 400}[topic]
		for i, line := range kcatHeaders(t, single.direct, topic, n) {
			hs, value, _ := strings.Cut(line, "|")
			if !strings.Contains(hs, "x-ip=127.0.0.1") || !strings.Contains(hs, "x-api=Produce") || !strings.Contains(hs, "x-origin=strait") {
				t.Fatalf("%s record %d (%s) has headers %q", topic, i, value, hs)
			}
		}
	}
	for _, line := range kcatHeaders(t, single.direct, other, 5) {
		if strings.Contains(line, "x-origin") {
			t.Fatalf("a topic outside the pattern got headers: %q", line)
		}
	}

	codecs := map[string]kgo.CompressionCodecType{kcatTopic: kgo.CodecLz4, javaTopic: kgo.CodecZstd}
	for topic, codec := range codecs {
		bs := storedBatches(t, ctx, topic)
		if len(bs) == 0 {
			t.Fatalf("%s: no batches stored", topic)
		}
		coded := 0
		for _, b := range bs {
			switch {
			case b.Codec() == codec:
				coded++
			case b.Codec() == kgo.CodecNone && topic == kcatTopic && len(b.Records) <= 2:
				// librdkafka sends a batch uncompressed when compressing
				// would not shrink it, as for one or two short records.
			default:
				t.Errorf("%s: batch at %d (%d records) stored with codec %v, want %v", topic, b.Header.FirstOffset, len(b.Records), b.Codec(), codec)
			}
			if topic == javaTopic && (b.Header.ProducerID < 0 || b.Header.FirstSequence != int32(b.Header.FirstOffset)) {
				t.Errorf("%s: batch at %d lost its producer id or sequence: id %d, sequence %d",
					topic, b.Header.FirstOffset, b.Header.ProducerID, b.Header.FirstSequence)
			}
		}
		if coded == 0 {
			t.Errorf("%s: no batch stored with codec %v", topic, codec)
		}
	}
	checkRecords(t, readTopic(t, ctx, backingClient(t), javaTopic, 400), "java", 400)
}

// TestRecordsHeaderRemoval writes records with headers straight to the
// backing cluster; a kcat consumer through MessageHeaderRemoval no longer
// sees the secret header, while the stored records keep it.
func TestRecordsHeaderRemoval(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := newTopic(t, single, "hdrrm", 1)
	policy(t, "records-strip", "MessageHeaderRemoval", `{"topic":"hdrrm-.*","headerKeyRegex":"secret-.*"}`)

	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(single.direct, ",")...), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for i := range 30 {
		rs = append(rs, &kgo.Record{Topic: topic, Value: []byte("v-" + strconv.Itoa(i)), Headers: []kgo.RecordHeader{
			{Key: "secret-token", Value: []byte("s3cr3t")}, {Key: "trace", Value: []byte(strconv.Itoa(i))}}})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for i, line := range kcatHeaders(t, single.gatewayAddr(), topic, 30) {
		if line != "trace="+strconv.Itoa(i)+"|v-"+strconv.Itoa(i) {
			t.Fatalf("record %d through the gateway: %q, want only the trace header", i, line)
		}
	}
	for i, line := range kcatHeaders(t, single.direct, topic, 30) {
		if !strings.HasPrefix(line, "secret-token=s3cr3t,trace=") {
			t.Fatalf("stored record %d lost its header: %q", i, line)
		}
	}
}

// TestRecordsSchemaIDPolicy refuses a kcat producer of plain strings,
// accepts values in the Confluent wire format, and refuses only the
// offending partition of a request that writes two.
func TestRecordsSchemaIDPolicy(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := newTopic(t, single, "schemaid", 2)
	policy(t, "records-schema-id", "io.conduktor.gateway.interceptor.safeguard.TopicRequiredSchemaIdPolicyPlugin",
		`{"topic":"schemaid-.*","schemaIdRequired":true,"action":"BLOCK"}`)

	out := kcatClient.runFailing(t, "produce", "--bootstrap", single.gatewayAddr(), "--topic", topic, "--count", "3", "--prefix", "plain",
		"--property", "message.timeout.ms=15000")
	if !strings.Contains(out, "Broker failed to validate record") { // librdkafka's text for INVALID_RECORD
		t.Errorf("kcat producing plain strings did not report INVALID_RECORD:\n%s", tail(out))
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordRetries(2), kgo.ProducerLinger(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	framed := []byte{0, 0, 0, 0, 7, 'o', 'k'}
	results := cl.ProduceSync(ctx,
		&kgo.Record{Topic: topic, Partition: 0, Value: framed},
		&kgo.Record{Topic: topic, Partition: 1, Value: []byte("not framed")},
	)
	for _, r := range results {
		switch r.Record.Partition {
		case 0:
			if r.Err != nil {
				t.Errorf("a value with a schema id was refused: %v", r.Err)
			}
		case 1:
			if !errors.Is(r.Err, kerr.InvalidRecord) {
				t.Errorf("a plain value: err %v, want INVALID_RECORD", r.Err)
			}
		}
	}
	offsets, err := kadm.NewClient(backingClient(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 1, 1: 0} {
		if o, _ := offsets.Lookup(topic, p); o.Offset != want {
			t.Errorf("partition %d holds %d records, want %d", p, o.Offset, want)
		}
	}
}
