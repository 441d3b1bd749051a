// Package store keeps a node's declarative state in a compacted Kafka topic.
// Every node reads the topic from the beginning at start-up, applies each
// record in topic order, and then follows the topic live, so all nodes on one
// backing cluster converge on the same state without local storage. Writers
// (the admin API, the CLI, or anyone producing to the topic) append records;
// a tombstone deletes. A record that fails validation is logged, counted and
// skipped, and the previous value for its key stays in force.
//
// The store is generic over the value type, so the config topic, the
// concentration offset maps and the gateway KMS keys can share it.
package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/metrics"
)

// Decoder validates one record. It returns the value to keep for the key, or
// an error saying why the record is rejected. Tombstones never reach it.
type Decoder[V any] func(key, value []byte) (V, error)

// Snapshot is an immutable view of the store after some record was applied.
type Snapshot[V any] struct {
	// Generation counts the snapshots a node has published; it grows by at
	// least one with every change.
	Generation uint64
	// Entries maps each live key to its value. It must not be modified.
	Entries map[string]V
}

// Config describes one store topic.
type Config struct {
	// Topic is the compacted topic's name.
	Topic string
	// ReplicationFactor for creating the topic; -1 uses the broker default.
	ReplicationFactor int16
	// Retention, when set, also deletes records older than it (cleanup
	// policy compact,delete), for state that only matters while fresh.
	Retention time.Duration
	// Log receives the store's messages.
	Log *zap.Logger
	// Metrics receives the store's metrics under its topic's name; nil
	// keeps them unregistered.
	Metrics *metrics.Store
	// Observe, when set, is told what became of every record read (control
	// records aside), in topic order, from the follower goroutine. It
	// must be quick.
	Observe func(Outcome)
}

// Outcome is what the store did with one record.
type Outcome struct {
	Offset int64
	Key    []byte
	// Value is nil for a tombstone.
	Value []byte
	// Err says why the record was rejected; nil when it was applied.
	Err error
	// Loading is set for records read while Open loaded the topic.
	Loading bool
}

// rejectMemory is how many offsets back the reasons for rejected records
// are kept for Put to report.
const rejectMemory = 4096

// Store is the state held in one compacted topic.
type Store[V any] struct {
	cfg     Config
	decode  Decoder[V]
	client  *kgo.Client
	log     *zap.Logger
	metrics metrics.StoreTopic

	snap     atomic.Pointer[Snapshot[V]]
	rejected atomic.Int64

	loaded int64 // the topic's end when Open read it

	mu       sync.Mutex
	applied  int64 // next offset to apply (the topic has one partition)
	rejects  map[int64]error
	changed  chan struct{} // closed and replaced whenever applied moves
	watchers []func(*Snapshot[V])

	stop context.CancelFunc
	done chan struct{}
}

// Open creates the topic when it is missing, reads it to its end, and starts
// following it. It returns once the state is complete.
func Open[V any](ctx context.Context, clientOpts []kgo.Opt, cfg Config, decode Decoder[V]) (*Store[V], error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewStore()
	}
	s := &Store[V]{
		cfg:     cfg,
		decode:  decode,
		log:     cfg.Log.With(zap.String("topic", cfg.Topic)),
		metrics: cfg.Metrics.Topic(cfg.Topic),
		rejects: make(map[int64]error),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.snap.Store(&Snapshot[V]{Entries: map[string]V{}})
	admin, err := kgo.NewClient(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("store: client: %w", err)
	}
	end, err := ensureTopic(ctx, kadm.NewClient(admin), cfg)
	admin.Close()
	if err != nil {
		return nil, err
	}
	s.metrics.Lag.Set(float64(end))
	s.loaded = end
	s.client, err = kgo.NewClient(append(clientOpts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0), // a write is one record that someone waits for
		// Records written in transactions count once committed. Control
		// records are kept so that a topic ending in a commit marker is
		// seen to be read to its end.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(200*time.Millisecond),
	)...)
	if err != nil {
		return nil, fmt.Errorf("store: client: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.follow(runCtx)
	if err := s.waitApplied(ctx, end); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: read %s to its end (offset %d): %w", cfg.Topic, end, err)
	}
	s.log.Info("state loaded", zap.Int("entries", len(s.Snapshot().Entries)), zap.Int64("records", end))
	return s, nil
}

// ensureTopic creates the topic (one partition, compacted) when missing and
// returns its last stable offset: its end as a read_committed reader sees
// it.
func ensureTopic(ctx context.Context, adm *kadm.Client, cfg Config) (int64, error) {
	rf := cfg.ReplicationFactor
	if rf == 0 {
		rf = -1
	}
	configs := map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}
	if cfg.Retention > 0 {
		configs["cleanup.policy"] = kadm.StringPtr("compact,delete")
		configs["retention.ms"] = kadm.StringPtr(strconv.FormatInt(cfg.Retention.Milliseconds(), 10))
	}
	resp, err := adm.CreateTopic(ctx, 1, rf, configs, cfg.Topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
	case errors.Is(err, kerr.TopicAlreadyExists):
	default:
		return 0, fmt.Errorf("store: create topic %s: %w", cfg.Topic, err)
	}
	// A topic created a moment ago may not have a leader yet: its
	// partition is missing from the answer or has a retriable error.
	for {
		ends, err := adm.ListCommittedOffsets(ctx, cfg.Topic)
		if err != nil {
			return 0, fmt.Errorf("store: end offset of %s: %w", cfg.Topic, err)
		}
		o, ok := ends.Lookup(cfg.Topic, 0)
		switch {
		case ok && o.Err == nil:
			return o.Offset, nil
		case ok && !kerr.IsRetriable(o.Err):
			return 0, fmt.Errorf("store: end offset of %s: %w", cfg.Topic, o.Err)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("store: end offset of %s: no leader yet: %w", cfg.Topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// follow applies records until ctx ends. Each fetch is applied as a whole
// and published as one snapshot.
func (s *Store[V]) follow(ctx context.Context) {
	defer close(s.done)
	entries := map[string]V{}
	var gen uint64
	for {
		fs := s.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(_ string, _ int32, err error) {
			s.log.Warn("reading state topic", zap.Error(err))
		})
		var last, stable int64 = -1, -1
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			stable = max(stable, p.LastStableOffset)
		})
		rejects := map[int64]error{}
		changed := false
		fs.EachRecord(func(r *kgo.Record) {
			last = r.Offset
			if r.Attrs.IsControl() {
				return
			}
			applied, err := s.apply(entries, r)
			if err != nil {
				rejects[r.Offset] = err
			}
			changed = changed || applied
			if s.cfg.Observe != nil {
				s.cfg.Observe(Outcome{Offset: r.Offset, Key: r.Key, Value: r.Value, Err: err, Loading: r.Offset < s.loaded})
			}
		})
		if last < 0 {
			continue
		}
		if changed {
			gen++
			snap := &Snapshot[V]{Generation: gen, Entries: maps.Clone(entries)}
			s.snap.Store(snap)
			// Watchers see the snapshot before a Put waiting for it
			// returns, so what they build from it (identities,
			// interceptor chains) is in force when the writer reads its
			// own write.
			s.mu.Lock()
			watchers := s.watchers
			s.mu.Unlock()
			for _, w := range watchers {
				w(snap)
			}
		}
		s.mu.Lock()
		s.applied = last + 1
		s.metrics.Lag.Set(float64(max(stable-s.applied, 0)))
		maps.Copy(s.rejects, rejects)
		// Put looks its offset up right after the record is applied; older
		// rejections of records nobody waits for are forgotten.
		for off := range s.rejects {
			if off < s.applied-rejectMemory {
				delete(s.rejects, off)
			}
		}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// apply validates one record into entries. It reports whether entries
// changed, or why the record is rejected.
func (s *Store[V]) apply(entries map[string]V, r *kgo.Record) (bool, error) {
	key := string(r.Key)
	if r.Value == nil {
		s.metrics.Applied.Inc()
		_, ok := entries[key]
		delete(entries, key)
		return ok, nil
	}
	v, err := s.decode(r.Key, r.Value)
	if err != nil {
		s.rejected.Add(1)
		s.metrics.Rejected.Inc()
		s.log.Error("record rejected; the previous value for its key stays in force",
			zap.Int64("offset", r.Offset), zap.ByteString("key", r.Key), zap.Error(err))
		return false, err
	}
	s.metrics.Applied.Inc()
	entries[key] = v
	return true, nil
}

// Snapshot returns the current state.
func (s *Store[V]) Snapshot() *Snapshot[V] { return s.snap.Load() }

// Watch calls fn with every new snapshot, from the follower goroutine, in
// order, before a Put waiting for that snapshot returns. fn must be quick.
func (s *Store[V]) Watch(fn func(*Snapshot[V])) {
	s.mu.Lock()
	s.watchers = append(s.watchers, fn)
	s.mu.Unlock()
}

// Rejected returns how many records failed validation since Open.
func (s *Store[V]) Rejected() int64 { return s.rejected.Load() }

// Put writes value under key (nil value: a tombstone) and waits until this
// node has applied it, so a caller reads its own write. It returns the
// decoder's error if the record was rejected when applied.
func (s *Store[V]) Put(ctx context.Context, key, value []byte) error {
	return s.PutAll(ctx, []KV{{key, value}})
}

// KV is one record for PutAll.
type KV struct{ Key, Value []byte }

// PutAll writes several records at once and waits until this node has
// applied them all; it returns the first rejection among them.
func (s *Store[V]) PutAll(ctx context.Context, kvs []KV) error {
	// The client may keep retrying a record it has sent once; PutAll stops
	// waiting when ctx ends, and the records may still land later.
	type result struct {
		r   *kgo.Record
		err error
	}
	produced := make(chan result, len(kvs))
	for _, kv := range kvs {
		s.client.Produce(ctx, &kgo.Record{Key: kv.Key, Value: kv.Value, Partition: 0}, func(r *kgo.Record, err error) {
			produced <- result{r, err}
		})
	}
	var offsets []int64
	for range kvs {
		var res result
		select {
		case res = <-produced:
		case <-ctx.Done():
			res.err = ctx.Err()
		}
		if res.err != nil {
			return fmt.Errorf("store: write to %s: %w", s.cfg.Topic, res.err)
		}
		offsets = append(offsets, res.r.Offset)
	}
	last := slices.Max(offsets)
	if err := s.waitApplied(ctx, last+1); err != nil {
		return fmt.Errorf("store: wait for %s offset %d: %w", s.cfg.Topic, last, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rejected error
	for _, off := range offsets {
		if err := s.rejects[off]; err != nil && rejected == nil {
			rejected = err
		}
		delete(s.rejects, off)
	}
	return rejected
}

// waitApplied waits until every record before offset end is applied.
func (s *Store[V]) waitApplied(ctx context.Context, end int64) error {
	for {
		s.mu.Lock()
		applied, changed := s.applied, s.changed
		s.mu.Unlock()
		if applied >= end {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return errors.New("store closed")
		case <-changed:
		}
	}
}

// Close stops following the topic.
func (s *Store[V]) Close() {
	s.stop()
	<-s.done
	s.client.Close()
}
