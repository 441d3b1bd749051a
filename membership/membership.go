// Package membership lets the nodes of one gateway cluster (the nodes that
// share GATEWAY_CLUSTER_ID) find each other through the backing cluster.
//
// Every node writes a heartbeat record, keyed by its node id, to a compacted
// topic every interval, and follows that topic with the same store as the
// config topic. A node counts as live while its heartbeats keep arriving
// within the timeout; a node that stops cleanly writes a tombstone so that
// the others drop it at once. From the live set every node computes the same
// placement of backing brokers onto gateway nodes, so clients spread their
// connections across the gateway cluster.
package membership

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/gateway"
	"github.com/strait-gateway/strait/store"
)

// Member is one node's heartbeat: who it is and how clients reach it.
type Member struct {
	// Node identifies the node; by default its advertised host and first
	// port, which no two reachable nodes share.
	Node string `json:"node"`
	// Host is the node's advertised host.
	Host string `json:"host"`
	// PortStart, PortCount and MinBrokerID are the node's port routing.
	PortStart   int   `json:"portStart"`
	PortCount   int   `json:"portCount"`
	MinBrokerID int32 `json:"minBrokerId"`
	// Rack is the node's rack, matched against the brokers' racks.
	Rack string `json:"rack,omitempty"`
	// At is the sender's clock at the heartbeat, in Unix milliseconds.
	At int64 `json:"at"`
}

// Routing returns the member's port routing.
func (m Member) Routing() gateway.Routing {
	return gateway.Routing{AdvertisedHost: m.Host, PortStart: m.PortStart, PortCount: m.PortCount, MinBrokerID: m.MinBrokerID}
}

// Config configures a node's membership.
type Config struct {
	// Self is this node; At is filled in with each heartbeat.
	Self Member
	// Store is the membership topic, e.g. _strait_<cluster id>_members.
	Store store.Config
	// Interval is the time between heartbeats.
	Interval time.Duration
	// Timeout is how long a node stays live after its last heartbeat.
	Timeout time.Duration
	// Log receives membership changes.
	Log *zap.Logger
}

// Membership is a node's live view of its gateway cluster.
type Membership struct {
	cfg   Config
	store *store.Store[Member]
	log   *zap.Logger

	live atomic.Pointer[[]Member] // sorted by node id, always with self

	mu   sync.Mutex
	seen map[string]sighting // node id → its latest heartbeat

	stop context.CancelFunc
	done chan struct{}
}

// sighting is when a heartbeat was received, by this node's clock.
type sighting struct {
	member Member
	at     time.Time
}

// Join reads the membership topic, announces this node and keeps doing so
// until Leave or Close.
func Join(ctx context.Context, clientOpts []kgo.Opt, cfg Config) (*Membership, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	m := &Membership{cfg: cfg, log: cfg.Log, seen: map[string]sighting{}, done: make(chan struct{})}
	m.live.Store(&[]Member{cfg.Self})
	st, err := store.Open(ctx, clientOpts, cfg.Store, decode)
	if err != nil {
		return nil, fmt.Errorf("membership: %w", err)
	}
	m.store = st
	// Heartbeats already in the topic are history: each counts from the
	// time its sender wrote it, so a node that died before this one started
	// is not taken for live. Later heartbeats count from their arrival, which
	// keeps clock differences between nodes out of the timeout.
	now := time.Now()
	for _, mem := range st.Snapshot().Entries {
		at := time.UnixMilli(mem.At)
		if at.After(now) {
			at = now
		}
		m.seen[mem.Node] = sighting{member: mem, at: at}
	}
	st.Watch(m.observe)
	if err := m.beat(ctx); err != nil {
		st.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	m.stop = stop
	go m.run(runCtx)
	return m, nil
}

// decode validates a heartbeat record: the key is the node id.
func decode(key, value []byte) (Member, error) {
	var mem Member
	if err := json.Unmarshal(value, &mem); err != nil {
		return mem, fmt.Errorf("membership: heartbeat: %w", err)
	}
	switch {
	case mem.Node != string(key):
		return mem, fmt.Errorf("membership: heartbeat key %q names node %q", key, mem.Node)
	case mem.Host == "" || mem.PortStart <= 0 || mem.PortCount <= 0:
		return mem, fmt.Errorf("membership: heartbeat of %q has no address", mem.Node)
	}
	return mem, nil
}

// observe records the heartbeats of a new snapshot.
func (m *Membership) observe(snap *store.Snapshot[Member]) {
	now := time.Now()
	m.mu.Lock()
	for node := range m.seen {
		if _, ok := snap.Entries[node]; !ok {
			delete(m.seen, node) // tombstone: the node left
		}
	}
	for node, mem := range snap.Entries {
		if prev, ok := m.seen[node]; !ok || prev.member != mem {
			m.seen[node] = sighting{member: mem, at: now}
		}
	}
	m.mu.Unlock()
	m.recompute()
}

// recompute publishes the live set.
func (m *Membership) recompute() {
	cutoff := time.Now().Add(-m.cfg.Timeout)
	live := []Member{m.cfg.Self}
	m.mu.Lock()
	for node, s := range m.seen {
		if node != m.cfg.Self.Node && s.at.After(cutoff) {
			live = append(live, s.member)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(live, func(a, b Member) int { return cmp.Compare(a.Node, b.Node) })
	old := m.live.Swap(&live)
	if !sameNodes(*old, live) {
		m.log.Info("gateway cluster members changed", zap.Strings("live", nodeIDs(live)))
	}
}

func sameNodes(a, b []Member) bool {
	return slices.EqualFunc(a, b, func(x, y Member) bool { return x.Node == y.Node })
}

func nodeIDs(ms []Member) []string {
	ids := make([]string, len(ms))
	for i, mem := range ms {
		ids[i] = mem.Node
	}
	return ids
}

// run heartbeats and expires silent nodes until stopped.
func (m *Membership) run(ctx context.Context) {
	defer close(m.done)
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := m.beat(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			m.log.Warn("heartbeat not written; other nodes will drop this one after the timeout", zap.Error(err))
			failing = true
		case err == nil && failing:
			m.log.Info("heartbeats written again")
			failing = false
		}
		m.recompute()
	}
}

// beat writes one heartbeat.
func (m *Membership) beat(ctx context.Context) error {
	self := m.cfg.Self
	self.At = time.Now().UnixMilli()
	value, err := json.Marshal(self)
	if err != nil {
		return fmt.Errorf("membership: heartbeat: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	if err := m.store.Put(ctx, []byte(self.Node), value); err != nil {
		return fmt.Errorf("membership: heartbeat: %w", err)
	}
	return nil
}

// Live returns the live nodes sorted by node id; this node is always one.
func (m *Membership) Live() []Member { return *m.live.Load() }

// Leave stops heartbeating and removes this node from the others' view at
// once, so that they advertise its brokers before it stops serving. It
// waits at most one heartbeat interval (at least half a second), so that a
// backing cluster out of reach does not eat the shutdown's drain time; the
// others then drop the node after the timeout.
func (m *Membership) Leave(ctx context.Context) error {
	m.stop()
	<-m.done
	ctx, cancel := context.WithTimeout(ctx, max(m.cfg.Interval, 500*time.Millisecond))
	defer cancel()
	if err := m.store.Put(ctx, []byte(m.cfg.Self.Node), nil); err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	return nil
}

// Close stops heartbeating without leaving: the others drop this node
// after the timeout.
func (m *Membership) Close() {
	m.stop()
	<-m.done
	m.store.Close()
}
