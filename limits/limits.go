// Package limits counts events across every node of a gateway cluster, so
// that a rate limit configured once holds for the cluster as a whole.
//
// Each node counts its own events per bucket in slots of wall-clock time
// (a tenth of the bucket's window). Every interval it writes one report —
// its non-zero slot counts of every active bucket — to a compacted topic
// of the backing cluster, keyed by the node. Every node follows the topic
// and keeps, per bucket, the sum of the other nodes' latest reports.
// Allow adds the local count to that sum; it takes one lock per bucket
// and does no I/O. Reports name absolute slots, so a stopped node's
// counts leave the window on time without anyone deleting them.
//
// The count is exact for this node and late for the others by at most
// one interval plus the time a report takes to reach the topic and come
// back (the lag): over any window, the cluster admits at most the limit
// plus what the other nodes admitted during one lag. See README.md.
package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/interceptor"
)

// Limits is a node's cluster-wide counter. Its zero value is not usable;
// make one with Local or Start.
type Limits struct {
	node     string
	log      *zap.Logger
	now      func() time.Time
	counters sync.Map // bucket → *counter
	others   atomic.Pointer[map[string]*remote]

	shared *shared // nil for a node-local counter
}

// Local returns limits that count this node's events only: what an
// interceptor falls back on when no cluster-wide service runs.
func Local() *Limits {
	l := &Limits{log: zap.NewNop(), now: time.Now}
	l.others.Store(&map[string]*remote{})
	return l
}

// Allow records n events in bucket and reports whether the cluster-wide
// count over the last window, these included, stays within limit. The
// first call for a bucket fixes its window.
func (l *Limits) Allow(bucket string, n, limit int64, window time.Duration) bool {
	return l.Count(bucket, n, window) <= limit
}

// Count records n events in bucket and returns the cluster-wide count over
// the last window, these included.
func (l *Limits) Count(bucket string, n int64, window time.Duration) int64 {
	now := l.now()
	v, ok := l.counters.Load(bucket)
	if !ok {
		v, _ = l.counters.LoadOrStore(bucket, newCounter(window))
	}
	c := v.(*counter)
	local := c.add(now, n)
	return local + (*l.others.Load())[bucket].sum(now, c.slot)
}

// Over records n events in bucket and returns by how much the cluster-wide
// count over the last window exceeds limit; 0 when within it. Limits that
// cannot tell their count (any interceptor.Limits but these) report n
// when over.
func Over(l interceptor.Limits, bucket string, n, limit int64, window time.Duration) int64 {
	if c, ok := l.(interface {
		Count(bucket string, n int64, window time.Duration) int64
	}); ok {
		return max(c.Count(bucket, n, window)-limit, 0)
	}
	if l.Allow(bucket, n, limit, window) {
		return 0
	}
	return n
}

// Node returns the key this node reports under.
func (l *Limits) Node() string { return l.node }

// incarnation makes a report key unique to one run of a node, so a node
// restarting under the same id does not hide the reports of its previous
// run, which still count until they leave their window.
func incarnation(node string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return node + "/" + hex.EncodeToString(b)
}

// Close stops publishing. The node's last report stays in the topic; its
// counts leave the window by themselves. Close on nil does nothing.
func (l *Limits) Close(ctx context.Context) {
	if l == nil || l.shared == nil {
		return
	}
	l.shared.close(ctx)
}
