package limits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/store"
)

// Config configures a node's cluster-wide limits.
type Config struct {
	// Node identifies the node; a random suffix per run is added.
	Node string
	// Store is the reports topic, _strait_<cluster id>_limits. Its
	// retention is set here.
	Store store.Config
	// Interval is the time between two reports; 250ms when zero.
	Interval time.Duration
	// Log receives the service's messages.
	Log *zap.Logger
}

// Retention is how long reports are kept; it is also the longest window
// the service counts across nodes.
const Retention = time.Hour

// segment is how often the topic rolls a segment, so that compaction and
// retention keep what a starting node reads small.
const segment = 10 * time.Minute

// report is one node's counts, the value of its record.
type report struct {
	Node    string                  `json:"node"`
	At      int64                   `json:"at"` // sender's clock, Unix ms
	Buckets map[string]bucketReport `json:"buckets"`
}

// bucketReport is one bucket's non-zero slot counts.
type bucketReport struct {
	SlotNs int64           `json:"slotNs"`
	Counts map[int64]int64 `json:"counts"`
}

// shared is the publishing and following half of cluster-wide limits.
type shared struct {
	l        *Limits
	store    *store.Store[report]
	interval time.Duration
	stop     context.CancelFunc
	done     chan struct{}
	quiet    bool // the last report written was empty, or none was
}

// Start creates the reports topic when missing, reads the other nodes'
// latest reports, and publishes this node's counts every interval until
// Close.
func Start(ctx context.Context, clientOpts []kgo.Opt, cfg Config) (*Limits, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 250 * time.Millisecond
	}
	cfg.Store.Retention = Retention
	if err := createTopic(ctx, clientOpts, cfg.Store); err != nil {
		return nil, err
	}
	l := Local()
	l.node, l.log = incarnation(cfg.Node), cfg.Log
	st, err := store.Open(ctx, clientOpts, cfg.Store, decode)
	if err != nil {
		return nil, fmt.Errorf("limits: %w", err)
	}
	sh := &shared{l: l, store: st, interval: cfg.Interval, quiet: true, done: make(chan struct{})}
	l.shared = sh
	st.Watch(l.observe)
	l.observe(st.Snapshot())
	runCtx, stop := context.WithCancel(context.Background())
	sh.stop = stop
	go sh.run(runCtx)
	l.log.Info("cluster-wide limits started", zap.String("topic", cfg.Store.Topic),
		zap.String("node", l.node), zap.Duration("interval", cfg.Interval))
	return l, nil
}

// createTopic creates the reports topic compacted, with a retention and
// short segments.
func createTopic(ctx context.Context, clientOpts []kgo.Opt, cfg store.Config) error {
	cl, err := kgo.NewClient(clientOpts...)
	if err != nil {
		return fmt.Errorf("limits: client: %w", err)
	}
	defer cl.Close()
	rf := cfg.ReplicationFactor
	if rf == 0 {
		rf = -1
	}
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, rf, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact,delete"),
		"retention.ms":   kadm.StringPtr(strconv.FormatInt(Retention.Milliseconds(), 10)),
		"segment.ms":     kadm.StringPtr(strconv.FormatInt(segment.Milliseconds(), 10)),
	}, cfg.Topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("limits: create topic %s: %w", cfg.Topic, err)
	}
	return nil
}

// decode validates a report: the key is the node.
func decode(key, value []byte) (report, error) {
	var r report
	if err := json.Unmarshal(value, &r); err != nil {
		return r, fmt.Errorf("limits: report: %w", err)
	}
	if r.Node != string(key) {
		return r, fmt.Errorf("limits: report key %q names node %q", key, r.Node)
	}
	for b, br := range r.Buckets {
		if br.SlotNs <= 0 {
			return r, fmt.Errorf("limits: report of %q: bucket %q has no slot length", r.Node, b)
		}
	}
	return r, nil
}

// observe sums the other nodes' reports of a new snapshot, per bucket.
// Reports older than the retention are ignored.
func (l *Limits) observe(snap *store.Snapshot[report]) {
	oldest := l.now().Add(-Retention).UnixMilli()
	others := map[string]*remote{}
	for node, r := range snap.Entries {
		if node == l.node || r.At < oldest {
			continue
		}
		for b, br := range r.Buckets {
			slot := time.Duration(br.SlotNs)
			rm := others[b]
			if rm == nil {
				rm = &remote{slot: slot, counts: map[int64]int64{}}
				others[b] = rm
			}
			if rm.slot != slot {
				continue // the window changed; the new one wins at the next report
			}
			for s, n := range br.Counts {
				rm.counts[s] += n
			}
		}
	}
	l.others.Store(&others)
}

// collect returns this node's report, forgetting counters idle for a
// whole window.
func (l *Limits) collect() report {
	now := l.now()
	r := report{Node: l.node, At: now.UnixMilli(), Buckets: map[string]bucketReport{}}
	l.counters.Range(func(k, v any) bool {
		c := v.(*counter)
		if c.idle(now) {
			l.counters.CompareAndDelete(k, v)
			return true
		}
		if counts := c.recent(now); len(counts) > 0 {
			r.Buckets[k.(string)] = bucketReport{SlotNs: int64(c.slot), Counts: counts}
		}
		return true
	})
	return r
}

// run publishes a report every interval.
func (sh *shared) run(ctx context.Context) {
	defer close(sh.done)
	t := time.NewTicker(sh.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sh.publish(ctx)
		}
	}
}

// publish writes the node's report unless it has nothing to say: no
// counts now and none in the last report written.
func (sh *shared) publish(ctx context.Context) {
	r := sh.l.collect()
	if len(r.Buckets) == 0 && sh.quiet {
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		sh.l.log.Error("encoding a limits report", zap.Error(err))
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sh.store.Put(pctx, []byte(r.Node), b); err != nil {
		if ctx.Err() == nil {
			sh.l.log.Warn("could not publish this node's counts; the other nodes undercount them until the next report", zap.Error(err))
		}
		return
	}
	sh.quiet = len(r.Buckets) == 0
}

// close publishes the counts one last time and stops.
func (sh *shared) close(ctx context.Context) {
	sh.stop()
	<-sh.done
	sh.publish(ctx)
	sh.store.Close()
}
