package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func testConfig(topic string, buffer int) Config {
	return Config{Topic: topic, Partitions: 3, ReplicationFactor: 1, Retention: time.Hour, Buffer: buffer, Source: "strait://test/node-1"}
}

// TestEventsReachTheTopic checks the CloudEvents envelope, the key and
// the content type, and that one subject's events stay in order.
func TestEventsReachTheTopic(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := Open(opts, testConfig("_strait_test_audit", 100))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CreateTopic(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		l.Emit(Event{Type: ConnectionOpened, Subject: fmt.Sprintf("conn-%d", i%5), Data: ConnectionData{
			Connection: Connection{ID: fmt.Sprintf("conn-%d", i%5), ClientAddress: fmt.Sprint(i)},
		}})
	}
	l.Close(ctx)
	if got := testutil.ToFloat64(l.written); got != n {
		t.Fatalf("written = %v, want %d", got, n)
	}

	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics("_strait_test_audit"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	last := map[string]int{}
	partition := map[string]int32{}
	for seen := 0; seen < n; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d events: %v", seen, n, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			var ev struct {
				SpecVersion, ID, Source, Type, Time, Subject, DataContentType, PartitionKey string
				Data                                                                        ConnectionData
			}
			if err := json.Unmarshal(r.Value, &ev); err != nil {
				t.Fatalf("record is not JSON: %v", err)
			}
			if ev.SpecVersion != "1.0" || ev.ID == "" || ev.Source != "strait://test/node-1" || ev.Type != string(ConnectionOpened) ||
				ev.DataContentType != "application/json" || ev.Subject != string(r.Key) || ev.PartitionKey != ev.Subject {
				t.Fatalf("bad envelope: %s", r.Value)
			}
			if _, err := time.Parse(time.RFC3339Nano, ev.Time); err != nil {
				t.Fatalf("time %q: %v", ev.Time, err)
			}
			if len(r.Headers) != 1 || r.Headers[0].Key != "content-type" {
				t.Fatalf("headers %v", r.Headers)
			}
			var i int
			fmt.Sscan(ev.Data.Connection.ClientAddress, &i)
			if prev, ok := last[ev.Subject]; ok && i <= prev {
				t.Fatalf("subject %s: event %d after %d", ev.Subject, i, prev)
			}
			if p, ok := partition[ev.Subject]; ok && p != r.Partition {
				t.Fatalf("subject %s on partitions %d and %d", ev.Subject, p, r.Partition)
			}
			last[ev.Subject], partition[ev.Subject] = i, r.Partition
		})
	}
}

// TestBufferBound checks that with no reachable broker events wait up to
// the bound and those past it are dropped and counted, without blocking.
func TestBufferBound(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l, err := Open([]kgo.Opt{kgo.SeedBrokers(addr)}, testConfig("t", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CreateTopic(ctx); err != nil {
		t.Fatalf("an unreachable cluster is retried in the background, not an error: %v", err)
	}
	start := time.Now()
	for range 5000 {
		l.Emit(Event{Type: AuthFailed, Subject: "c", Data: AuthData{Reason: "x"}})
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("emitting into a full buffer took %s", d)
	}
	if got := l.pending.Load(); got != 1000 {
		t.Fatalf("buffered = %d, want 1000", got)
	}
	if got := testutil.ToFloat64(l.dropped.WithLabelValues(dropFull)); got != 4000 {
		t.Fatalf("dropped = %v, want 4000", got)
	}
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelClose()
	l.Close(closeCtx)
	if got := testutil.ToFloat64(l.written); got != 0 {
		t.Fatalf("written = %v with no broker", got)
	}
}

// TestUnencodableData checks that data JSON cannot hold is counted, not
// sent.
func TestUnencodableData(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Open([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, testConfig("t", 10))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	l.Emit(Event{Type: AuthFailed, Subject: "c", Data: make(chan int)})
	if got := testutil.ToFloat64(l.dropped.WithLabelValues(dropEncode)); got != 1 {
		t.Fatalf("encode drops = %v", got)
	}
	if l.pending.Load() != 0 {
		t.Fatal("an unencodable event was buffered")
	}
}

// TestBadTopicSettings checks that settings the cluster refuses stop the
// node with an error naming the topic, rather than being retried.
func TestBadTopicSettings(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := testConfig("_strait_bad_audit", 10)
	cfg.ReplicationFactor = 5 // one broker
	l, err := Open([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	if err := l.CreateTopic(ctx); err == nil || !strings.Contains(err.Error(), "_strait_bad_audit") {
		t.Fatalf("err = %v, want a refusal naming the topic", err)
	}
}
