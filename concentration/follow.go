package concentration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/concentration/offsetmap"
	"github.com/strait-gateway/strait/store"
)

// follower keeps the offset index of every physical partition that holds
// concentrated records: it reads the partitions' records (their tags),
// from the last checkpoint on, and writes a checkpoint of every chunk it
// seals. All nodes compute the same index; any of them may write a chunk.
type follower struct {
	log     *zap.Logger
	client  *kgo.Client
	offsets *store.Store[struct{}]
	writes  chan checkpoint

	mu      sync.RWMutex
	indexes map[string]map[int32]*offsetmap.Index // physical topic → partition
	reading map[string]map[int32]bool             // partitions the client consumes
	live    map[ID]*Topic                         // topics of the last view, to forget deleted ones
	written map[string]bool                       // checkpoint keys known to be stored
	moved   chan struct{}                         // closed and replaced when an index advances

	stop context.CancelFunc
	done chan struct{}
}

type checkpoint struct {
	key   string
	value []byte
}

// checkpointKey names a chunk's record in the offsets topic.
func checkpointKey(topic string, partition int32, chunk int64) string {
	return topic + "/" + strconv.Itoa(int(partition)) + "/" + strconv.FormatInt(chunk, 10)
}

// parseCheckpointKey reads a checkpoint key; the topic may itself hold
// slashes, the partition and chunk never do.
func parseCheckpointKey(key string) (topic string, partition int32, chunk int64, ok bool) {
	rest, c, ok1 := cutLast(key)
	topic, p, ok2 := cutLast(rest)
	pn, err1 := strconv.ParseInt(p, 10, 32)
	cn, err2 := strconv.ParseInt(c, 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || topic == "" || pn < 0 || cn < 0 {
		return "", 0, 0, false
	}
	return topic, int32(pn), cn, true
}

func cutLast(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// openFollower loads the checkpoints and starts reading the physical
// partitions the registry names.
func openFollower(ctx context.Context, cfg Config, reg *store.Snapshot[*Topic], log *zap.Logger) (*follower, error) {
	raw := map[string][]byte{}
	offsetsCfg := cfg.Offsets
	offsetsCfg.Observe = func(o store.Outcome) {
		if o.Loading && o.Err == nil {
			raw[string(o.Key)] = o.Value // nil for a tombstone
		}
	}
	st, err := store.Open(ctx, cfg.ClientOpts, offsetsCfg, func(key, _ []byte) (struct{}, error) {
		if _, _, _, ok := parseCheckpointKey(string(key)); !ok {
			return struct{}{}, fmt.Errorf("concentration: checkpoint key %q is not <topic>/<partition>/<chunk>", key)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("concentration: offsets topic: %w", err)
	}
	f := &follower{log: log, offsets: st, writes: make(chan checkpoint, 1024),
		indexes: map[string]map[int32]*offsetmap.Index{}, written: map[string]bool{},
		reading: map[string]map[int32]bool{}, live: map[ID]*Topic{},
		moved: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	if err := f.restore(raw, denseTopics(reg)); err != nil {
		st.Close()
		return nil, err
	}
	log.Info("offset index restored from checkpoints", zap.Int("chunks", len(raw)), zap.Duration("took", time.Since(start)))
	f.client, err = kgo.NewClient(append(cfg.ClientOpts,
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("concentration: follower client: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	f.stop = stop
	go f.run(runCtx)
	go f.writeCheckpoints(runCtx)
	return f, nil
}

// denseTopics tells, per physical topic, whether its index numbers
// densely: physical topics of the delete policy do.
func denseTopics(s *store.Snapshot[*Topic]) map[string]bool {
	d := map[string]bool{}
	for _, t := range s.Entries {
		d[t.Physical] = t.CleanupPolicy == "delete"
	}
	return d
}

// restore rebuilds each partition's index from its consecutive
// checkpoints, starting at the lowest.
func (f *follower) restore(raw map[string][]byte, dense map[string]bool) error {
	type part struct {
		topic     string
		partition int32
	}
	chunks := map[part]map[int64][]byte{}
	for k, v := range raw {
		t, p, c, ok := parseCheckpointKey(k)
		if !ok || v == nil {
			continue
		}
		if chunks[part{t, p}] == nil {
			chunks[part{t, p}] = map[int64][]byte{}
		}
		chunks[part{t, p}][c] = v
		f.written[k] = true
	}
	for pt, byNo := range chunks {
		nos := slices.Sorted(maps.Keys(byNo))
		var run [][]byte
		for i, n := range nos {
			if i > 0 && n != nos[i-1]+1 {
				f.log.Warn("offset index checkpoints have a gap; the rest is read from the physical topic",
					zap.String("topic", pt.topic), zap.Int32("partition", pt.partition), zap.Int64("chunk", nos[i-1]+1))
				break
			}
			run = append(run, byNo[n])
		}
		ix, err := offsetmap.Restore(dense[pt.topic], run)
		if err != nil {
			f.log.Error("offset index checkpoints unreadable; the partition is read from its start",
				zap.String("topic", pt.topic), zap.Int32("partition", pt.partition), zap.Error(err))
			continue
		}
		f.set(pt.topic, pt.partition, ix)
	}
	return nil
}

func (f *follower) set(topic string, partition int32, ix *offsetmap.Index) {
	if f.indexes[topic] == nil {
		f.indexes[topic] = map[int32]*offsetmap.Index{}
	}
	f.indexes[topic][partition] = ix
}

// follow starts reading the physical partitions of a registry view that
// are not read yet.
func (f *follower) follow(v *view) {
	add := map[string]map[int32]kgo.Offset{}
	f.mu.Lock()
	for id, t := range f.live {
		if v.byID[id] != nil {
			continue
		}
		for p, q := range t.Partitions {
			if ix := f.indexes[t.Physical][q]; ix != nil {
				ix.Forget(t.Tag(int32(p)))
			}
		}
	}
	f.live = maps.Clone(v.byID)
	for _, t := range v.byName {
		for _, q := range t.Partitions {
			if f.reading[t.Physical][q] {
				continue
			}
			if f.reading[t.Physical] == nil {
				f.reading[t.Physical] = map[int32]bool{}
			}
			f.reading[t.Physical][q] = true
			ix := f.indexes[t.Physical][q]
			if ix == nil {
				ix = offsetmap.New(t.CleanupPolicy == "delete")
				f.set(t.Physical, q, ix)
			}
			if add[t.Physical] == nil {
				add[t.Physical] = map[int32]kgo.Offset{}
			}
			add[t.Physical][q] = kgo.NewOffset().At(ix.Watermark())
		}
	}
	f.mu.Unlock()
	if len(add) > 0 {
		f.client.AddConsumePartitions(add)
	}
}

// run indexes the records read until ctx ends.
func (f *follower) run(ctx context.Context) {
	defer close(f.done)
	for {
		fs := f.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			f.log.Warn("reading a physical topic for the offset index", zap.String("topic", t), zap.Int32("partition", p), zap.Error(err))
		})
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			f.mu.RLock()
			ix := f.indexes[p.Topic][p.Partition]
			f.mu.RUnlock()
			if ix == nil || len(p.Records) == 0 {
				return
			}
			for _, r := range p.Records {
				if r.Offset < ix.Watermark() {
					continue // read again after a restart of the consumer
				}
				if t, ok := recordTag(r); ok && !r.Attrs.IsControl() {
					ix.Append(r.Offset, t)
				} else {
					ix.Advance(r.Offset + 1) // not a logical record: ends any run
				}
			}
			ix.Advance(p.Records[len(p.Records)-1].Offset + 1)
			if p.LogStartOffset > 0 && p.LogStartOffset <= ix.Watermark() {
				ix.Trim(p.LogStartOffset) // retention removed the oldest records
			}
			f.checkpoint(p.Topic, p.Partition, ix)
		})
		f.mu.Lock()
		close(f.moved)
		f.moved = make(chan struct{})
		f.mu.Unlock()
	}
}

// recordTag reads the tag headers of a record.
func recordTag(r *kgo.Record) (offsetmap.Tag, bool) {
	var topic, partition []byte
	for _, h := range r.Headers {
		switch h.Key {
		case TopicHeader:
			topic = h.Value
		case PartitionHeader:
			partition = h.Value
		}
	}
	return parseTag(topic, partition)
}

// checkpoint queues the sealed chunks of an index nobody stored yet.
func (f *follower) checkpoint(topic string, partition int32, ix *offsetmap.Index) {
	first, end := ix.Sealed()
	for n := first; n < end; n++ {
		key := checkpointKey(topic, partition, n)
		f.mu.RLock()
		done := f.written[key]
		f.mu.RUnlock()
		if done {
			continue
		}
		value, err := ix.Checkpoint(n)
		if err != nil {
			f.log.Error("offset index checkpoint failed", zap.String("key", key), zap.Error(err))
			continue
		}
		f.mu.Lock()
		f.written[key] = true
		f.mu.Unlock()
		select {
		case f.writes <- checkpoint{key, value}:
		default:
			f.log.Warn("offset index checkpoint dropped: writer behind", zap.String("key", key))
		}
	}
}

// writeCheckpoints stores queued checkpoints until ctx ends.
func (f *follower) writeCheckpoints(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-f.writes:
			if err := f.offsets.Put(ctx, []byte(c.key), c.value); err != nil && ctx.Err() == nil {
				f.log.Warn("offset index checkpoint not written", zap.String("key", c.key), zap.Error(err))
				f.mu.Lock()
				delete(f.written, c.key) // the next chunk sealed tries again
				f.mu.Unlock()
			}
		}
	}
}

// close stops following.
func (f *follower) close() {
	if f.stop != nil {
		f.stop()
		<-f.done
		f.client.Close()
	}
	f.offsets.Close()
}
