package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// record is one consumed record as every harness prints it.
type record struct {
	P int32  `json:"p"`
	O int64  `json:"o"`
	K string `json:"k"`
	V string `json:"v"`
}

// parseRecords reads the JSON lines a harness printed.
func parseRecords(t *testing.T, out string) []record {
	t.Helper()
	var rs []record
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad consumer output line %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// checkRecords verifies that exactly the values prefix-0 … prefix-(n−1)
// arrived, each once, and that within every partition offsets and the
// sequence numbers of each key increase.
func checkRecords(t *testing.T, rs []record, prefix string, n int) {
	t.Helper()
	seen := make(map[int]bool, n)
	lastOffset := make(map[int32]int64)
	lastSeq := make(map[string]int)
	for _, r := range rs {
		seqStr, ok := strings.CutPrefix(r.V, prefix+"-")
		seq, err := strconv.Atoi(seqStr)
		if !ok || err != nil || seq < 0 || seq >= n {
			t.Fatalf("unexpected record %+v", r)
		}
		if seen[seq] {
			t.Fatalf("record %s delivered twice", r.V)
		}
		seen[seq] = true
		if want := "key-" + strconv.Itoa(seq%8); r.K != want {
			t.Fatalf("record %s has key %q, want %q", r.V, r.K, want)
		}
		if prev, ok := lastOffset[r.P]; ok && r.O <= prev {
			t.Fatalf("partition %d: offset %d after %d", r.P, r.O, prev)
		}
		lastOffset[r.P] = r.O
		if prev, ok := lastSeq[r.K]; ok && seq <= prev {
			t.Fatalf("key %s: record %d after %d (out of order)", r.K, seq, prev)
		}
		lastSeq[r.K] = seq
	}
	if len(seen) != n {
		t.Fatalf("received %d distinct records, want %d", len(seen), n)
	}
}

// newTopic creates a topic with the given partitions through the gateway.
func newTopic(t *testing.T, b *backend, prefix string, partitions int32) string {
	t.Helper()
	return newTopicAt(t, b.gatewayAddr(), b, prefix, partitions)
}

// newTopicAt creates a topic through the gateway at addr.
func newTopicAt(t *testing.T, addr string, b *backend, prefix string, partitions int32) string {
	t.Helper()
	topic := fmt.Sprintf("%s-%s-%d", prefix, b.name, time.Now().UnixNano()%1e9)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rf := int16(min(b.nodes, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, partitions, rf, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	// CreateTopics answers before every partition has a leader; a client
	// producing at once would meet retriable errors, and clients without
	// idempotence may reorder what they retry.
	for {
		md, err := adm.Metadata(ctx, topic)
		if err == nil && md.Topics[topic].Err == nil && len(md.Topics[topic].Partitions) == int(partitions) &&
			allLed(md.Topics[topic].Partitions) && leadersServe(ctx, adm, topic) {
			return topic
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s: partitions without a leader after 30s (%v)", topic, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leadersServe reports whether every partition's leader answers for it.
// Metadata can name a leader a moment before that broker acts as one; a
// produce in that moment gets NOT_LEADER_OR_FOLLOWER, and a client without
// idempotence may reorder what it retries.
func leadersServe(ctx context.Context, adm *kadm.Client, topic string) bool {
	ends, err := adm.ListEndOffsets(ctx, topic)
	return err == nil && ends.Error() == nil
}

func allLed(ps kadm.PartitionDetails) bool {
	for _, p := range ps {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

// consumeGo reads n records with franz-go in a group through the gateway.
func consumeGo(t *testing.T, addr, topic, group string, n int, opts ...kgo.Opt) []record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var rs []record
	for len(rs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("franz-go consumed %d of %d records", len(rs), n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			rs = append(rs, record{P: r.Partition, O: r.Offset, K: string(r.Key), V: string(r.Value)})
		})
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	return rs
}
