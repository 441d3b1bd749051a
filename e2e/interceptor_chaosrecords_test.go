package e2e

import (
	"bytes"
	"context"
	be "encoding/binary"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kcatValues reads a topic from the start to its end with kcat itself and
// returns every value it prints, one per record delivered.
func kcatValues(t *testing.T, addr, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kcat", "-C", "-b", addr, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o|%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat consume %s: %v\n%s", topic, err, tail(string(out)))
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// count counts the values of records.
func count(rs []record) map[string]int {
	n := map[string]int{}
	for _, r := range rs {
		n[r.V]++
	}
	return n
}

// TestChaosRecordsDuplicateConsume: with DuplicateMessages on CONSUME,
// kcat (librdkafka) reading through the gateway gets every record twice,
// at its own offset, while Kafka holds each once and franz-go, which skips
// offsets it has read, gets each once.
func TestChaosRecordsDuplicateConsume(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := chaosTopic(t, ctx, "dupconsume", 1)
	produceRecords(t, ctx, backingClient(t), topic, "d", 10)
	chaos(t, "dup-consume", "io.conduktor.gateway.interceptor.chaos.DuplicateMessagesPlugin", `{"topic":"dupconsume-.*"}`)

	lines := kcatValues(t, single.gatewayAddr(), topic)
	seen := map[string]int{}
	for _, l := range lines {
		seen[l]++
	}
	for i := range 10 {
		if l := fmt.Sprintf("%d|d-%d", i, i); seen[l] != 2 {
			t.Errorf("kcat through the gateway read %q %d times, want 2 (all: %q)", l, seen[l], lines)
		}
	}
	if len(lines) != 20 {
		t.Errorf("kcat read %d records, want 20", len(lines))
	}
	if n := endOffsets(t, ctx, topic); n != 10 {
		t.Errorf("Kafka holds %d records, want 10", n)
	}
	for v, n := range count(readTopic(t, ctx, backingClient(t), topic, 10)) {
		if n != 1 {
			t.Errorf("stored value %q appears %d times", v, n)
		}
	}
	if rs := readRetrying(t, ctx, topic, 10); len(count(rs)) != 10 {
		t.Errorf("franz-go through the gateway read %v, want each of 10 records once", count(rs))
	}
	if rs := javaClient.consume(t, single.gatewayAddr(), topic, "dupconsume-java", 10); len(count(rs)) != 10 {
		t.Errorf("the Java consumer through the gateway read %v, want each of 10 records once", count(rs))
	}
}

// TestChaosRecordsDuplicateProduce: with DuplicateMessages on PRODUCE, a
// franz-go producer (idempotence off) writing through the gateway leaves
// every record twice in Kafka; an idempotent Java producer's batches are
// left alone and every record is stored once.
func TestChaosRecordsDuplicateProduce(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := chaosTopic(t, ctx, "dupproduce", 1)
	chaos(t, "dup-produce", "DuplicateMessages", `{"topic":"dupproduce-.*","target":"PRODUCE"}`)

	produceRecords(t, ctx, gatewayClient(t, kgo.DisableIdempotentWrite()), topic, "p", 10)
	if n := endOffsets(t, ctx, topic); n != 20 {
		t.Errorf("Kafka holds %d records, want 20", n)
	}
	stored := count(readTopic(t, ctx, backingClient(t), topic, 20))
	for i := range 10 {
		if n := stored[fmt.Sprintf("p-%d", i)]; n != 2 {
			t.Errorf("p-%d stored %d times, want 2", i, n)
		}
	}

	idem := chaosTopic(t, ctx, "dupproduce", 1)
	javaClient.produce(t, single.gatewayAddr(), idem, "java", 50, "--idempotent")
	checkRecords(t, readTopic(t, ctx, backingClient(t), idem, 50), "java", 50)
	if n := endOffsets(t, ctx, idem); n != 50 {
		t.Errorf("the idempotent producer's topic holds %d records, want 50", n)
	}
}

// TestChaosRecordsCorruption: FetchSimulateMessageCorruption appends 7
// random bytes to the values a franz-go consumer reads through the
// gateway while Kafka keeps them intact; ProduceSimulateMessageCorruption
// stores values 10 bytes longer.
func TestChaosRecordsCorruption(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fetched := chaosTopic(t, ctx, "corruptfetch", 1)
	produced := chaosTopic(t, ctx, "corruptproduce", 1)
	produceRecords(t, ctx, backingClient(t), fetched, "f", 5)
	chaos(t, "corrupt-fetch", "io.conduktor.gateway.interceptor.chaos.FetchSimulateMessageCorruptionPlugin",
		`{"topic":"corruptfetch-.*","sizeInBytes":7}`)
	chaos(t, "corrupt-produce", "io.conduktor.gateway.interceptor.chaos.ProduceSimulateMessageCorruptionPlugin",
		`{"topic":"corruptproduce-.*","rateInPercent":100}`)

	for _, r := range readRetrying(t, ctx, fetched, 5) {
		want := fmt.Sprintf("f-%d", r.O)
		if !strings.HasPrefix(r.V, want) || len(r.V) != len(want)+7 {
			t.Errorf("consumer read %q at offset %d, want %q and 7 bytes more", r.V, r.O, want)
		}
	}
	for _, r := range readTopic(t, ctx, backingClient(t), fetched, 5) {
		if r.V != fmt.Sprintf("f-%d", r.O) {
			t.Errorf("Kafka holds %q at offset %d", r.V, r.O)
		}
	}

	produceRecords(t, ctx, gatewayClient(t), produced, "q", 5)
	for _, r := range readTopic(t, ctx, backingClient(t), produced, 5) {
		want := fmt.Sprintf("q-%d", r.O)
		if !strings.HasPrefix(r.V, want) || len(r.V) != len(want)+10 {
			t.Errorf("Kafka holds %q at offset %d, want %q and 10 bytes more", r.V, r.O, want)
		}
	}
}

// TestChaosRecordsInvalidSchemaID: values in the Confluent wire format
// reach a consumer through the gateway with schema id 4242 instead of 7;
// a plain value and the stored records are untouched.
func TestChaosRecordsInvalidSchemaID(t *testing.T) {
	requireReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := chaosTopic(t, ctx, "badschema", 1)
	framed := []byte{0, 0, 0, 0, 7, 'p', 'a', 'y'}
	if err := backingClient(t).ProduceSync(ctx,
		&kgo.Record{Topic: topic, Value: framed},
		&kgo.Record{Topic: topic, Value: []byte("plain")},
		&kgo.Record{Topic: topic, Value: framed},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	chaos(t, "bad-schema", "io.conduktor.gateway.interceptor.chaos.SimulateInvalidSchemaIdPlugin",
		`{"topic":"badschema-.*","invalidSchemaId":4242}`)

	rewritten := be.BigEndian.AppendUint32([]byte{0}, 4242)
	rewritten = append(rewritten, "pay"...)
	want := []string{string(rewritten), "plain", string(rewritten)}
	for i, r := range readRetrying(t, ctx, topic, 3) {
		if r.V != want[i] {
			t.Errorf("consumer read %x at offset %d, want %x", r.V, r.O, want[i])
		}
	}
	for _, r := range readTopic(t, ctx, backingClient(t), topic, 3) {
		if r.V != "plain" && !bytes.Equal([]byte(r.V), framed) {
			t.Errorf("Kafka holds %x at offset %d", r.V, r.O)
		}
	}
}
