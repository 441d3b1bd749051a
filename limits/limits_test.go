package limits

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/store"
)

func newCluster(t *testing.T) []kgo.Opt {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
}

func start(t *testing.T, opts []kgo.Opt, node string, interval time.Duration) *Limits {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Start(ctx, opts, Config{
		Node:     node,
		Store:    store.Config{Topic: "_strait_test_limits", Log: zaptest.NewLogger(t)},
		Interval: interval,
		Log:      zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// seen waits until l counts at least n events of bucket from other nodes.
func seen(t *testing.T, l *Limits, bucket string, n int64, window time.Duration) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if (*l.others.Load())[bucket].sum(time.Now(), slotOf(window)) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never saw %d events of %s from the other nodes", l.Node(), n, bucket)
}

func admit(l *Limits, bucket string, events int, limit int64, window time.Duration) int {
	ok := 0
	for range events {
		if l.Allow(bucket, 1, limit, window) {
			ok++
		}
	}
	return ok
}

// TestLimitAcrossNodes: events on one node count against the other's
// limit once reported.
func TestLimitAcrossNodes(t *testing.T) {
	opts := newCluster(t)
	a, b := start(t, opts, "a", 50*time.Millisecond), start(t, opts, "b", 50*time.Millisecond)
	if got := admit(a, "commits", 60, 100, time.Minute); got != 60 {
		t.Fatalf("a admitted %d of 60 under a limit of 100", got)
	}
	seen(t, b, "commits", 60, time.Minute)
	if got := admit(b, "commits", 60, 100, time.Minute); got != 40 {
		t.Fatalf("b admitted %d of 60; a already used 60 of 100", got)
	}
	seen(t, a, "commits", 60, time.Minute) // b's events, refused ones included
	if a.Allow("commits", 1, 100, time.Minute) {
		t.Fatal("a admitted an event over the cluster-wide limit")
	}
	if !a.Allow("other", 1, 1, time.Minute) {
		t.Fatal("buckets are not separate")
	}
}

// TestReportsExpire: a stopped node's counts leave the window on time.
func TestReportsExpire(t *testing.T) {
	opts := newCluster(t)
	a, b := start(t, opts, "a", 50*time.Millisecond), start(t, opts, "b", 50*time.Millisecond)
	window := time.Second
	admit(a, "conn", 10, 10, window)
	a.Close(context.Background())
	seen(t, b, "conn", 10, window)
	if b.Allow("conn", 1, 10, window) {
		t.Fatal("b admitted an event while a's 10 are in the window")
	}
	time.Sleep(window + slotOf(window) + 50*time.Millisecond)
	if !b.Allow("conn", 1, 10, window) {
		t.Fatal("a's events did not leave the window")
	}
}

// TestLateNodeReadsReports: a node starting later knows the counts already
// published.
func TestLateNodeReadsReports(t *testing.T) {
	opts := newCluster(t)
	a := start(t, opts, "a", 20*time.Millisecond)
	admit(a, "joins", 5, 5, time.Minute)
	time.Sleep(200 * time.Millisecond)
	b := start(t, opts, "b", 20*time.Millisecond)
	if b.Allow("joins", 1, 5, time.Minute) {
		t.Fatal("a node started later ignored the counts already published")
	}
}

// TestConcurrentLoad drives both nodes at once and checks the bound the
// README states: over one window the cluster admits at most the limit plus
// what the other node admitted during one lag (interval plus delivery).
func TestConcurrentLoad(t *testing.T) {
	opts := newCluster(t)
	interval := 100 * time.Millisecond
	a, b := start(t, opts, "a", interval), start(t, opts, "b", interval)
	const limit = 200
	window := time.Minute
	var admitted atomic.Int64
	var wg sync.WaitGroup
	perNode := [2]int64{}
	for i, l := range []*Limits{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 1000 events a second for 1.5s: each node alone would admit
			// its whole limit within the first 200ms.
			for range 1500 {
				if l.Allow("bytes", 1, limit, window) {
					admitted.Add(1)
					perNode[i]++
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	// One lag at 1000 events a second is interval plus delivery; allow
	// delivery its own interval on a busy test machine.
	bound := int64(limit + 2*interval.Milliseconds())
	got := admitted.Load()
	t.Logf("admitted %d (a %d, b %d) under a cluster-wide limit of %d, bound %d", got, perNode[0], perNode[1], limit, bound)
	if got < limit || got > bound {
		t.Fatalf("admitted %d, want between %d and %d", got, limit, bound)
	}
	if perNode[0] == 0 || perNode[1] == 0 {
		t.Fatalf("one node admitted nothing: %v", perNode)
	}
}

// TestLocal counts one node only and slides its window.
func TestLocal(t *testing.T) {
	l := Local()
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	if got := admit(l, "x", 5, 3, time.Second); got != 3 {
		t.Fatalf("admitted %d of 5 under 3", got)
	}
	now = now.Add(500 * time.Millisecond)
	if l.Allow("x", 1, 3, time.Second) {
		t.Fatal("events left the window too early")
	}
	now = now.Add(time.Second + slotOf(time.Second))
	if !l.Allow("x", 1, 3, time.Second) {
		t.Fatal("events never left the window")
	}
	if l.collect(); len(l.collect().Buckets) != 1 {
		t.Fatal("an active bucket is missing from the report")
	}
	now = now.Add(2 * time.Second)
	if r := l.collect(); len(r.Buckets) != 0 {
		t.Fatalf("an idle bucket is still reported: %v", r.Buckets)
	}
	if _, ok := l.counters.Load("x"); ok {
		t.Fatal("an idle counter was not forgotten")
	}
}
