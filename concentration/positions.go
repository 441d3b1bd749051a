package concentration

import (
	"time"

	"github.com/strait-gateway/strait/concentration/offsetmap"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// What the frame path asks the follower: where a logical partition's
// records are, and how its physical answers read in logical terms.

// index returns the index of a logical partition's physical partition,
// or the error a client gets while there is none yet.
func (f *follower) index(ct *Topic, p int32) (*offsetmap.Index, int16) {
	if p < 0 || int(p) >= len(ct.Partitions) {
		return nil, kerr.UnknownTopicOrPartition.Code
	}
	f.mu.RLock()
	ix := f.indexes[ct.Physical][ct.Partitions[p]]
	f.mu.RUnlock()
	if ix == nil {
		return nil, kerr.LeaderNotAvailable.Code
	}
	return ix, 0
}

// logicalOffset translates the physical offsets of a batch just written
// to the logical offset of its first record, waiting briefly for the
// index to reach it until deadline; -1 when it does not in time.
func (f *follower) logicalOffset(ct *Topic, p int32, first, last int64, deadline time.Time) int64 {
	if !ct.Dense {
		return first
	}
	ix, code := f.index(ct, p)
	if code != 0 {
		return -1
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		f.mu.RLock()
		moved := f.moved
		f.mu.RUnlock()
		if ix.Watermark() > last {
			logical, v := ix.Batch(ct.Tag(p), first, last)
			if v != offsetmap.Mine {
				return -1
			}
			return logical
		}
		select {
		case <-moved:
		case <-timer.C:
			return -1
		}
	}
}

// logicalStart translates a physical log start offset.
func (f *follower) logicalStart(ct *Topic, p int32, phys int64) int64 {
	ix, code := f.index(ct, p)
	if !ct.Dense || code != 0 || phys < 0 {
		return phys
	}
	return ix.Start(ct.Tag(p))
}

// answer fills a logical partition's Fetch answer from its physical one;
// alone, it may take the physical partition's records over (filter them in
// place).
func (f *follower) answer(w *want, src *kmsg.FetchResponseTopicPartition, alone bool) {
	r := &w.result
	r.ErrorCode, r.PreferredReadReplica = src.ErrorCode, -1
	r.HighWatermark, r.LastStableOffset, r.LogStartOffset = src.HighWatermark, src.LastStableOffset, src.LogStartOffset
	r.CurrentLeader = src.CurrentLeader
	ix, code := f.index(w.topic, w.partition)
	if code != 0 {
		r.ErrorCode = code
	}
	if r.ErrorCode != 0 {
		return
	}
	tag := w.topic.Tag(w.partition)
	if w.beyond {
		phys, err := ix.Seek(tag, w.offset)
		switch {
		case err == nil:
			w.from = phys // the index caught up meanwhile
		case ix.Watermark() >= src.HighWatermark:
			r.ErrorCode = kerr.OffsetOutOfRange.Code // past the end of the whole log
			return
		default:
			// The index is still behind the log: no records yet and no
			// error, so the client asks again rather than resetting.
			r.HighWatermark, r.LastStableOffset, r.LogStartOffset = w.offset, w.offset, ix.Start(tag)
			return
		}
	}
	if w.topic.Dense {
		r.HighWatermark = ix.Logical(tag, src.HighWatermark)
		if src.LastStableOffset >= 0 {
			r.LastStableOffset = ix.Logical(tag, src.LastStableOffset)
		}
		r.LogStartOffset = ix.Start(tag)
	}
	var dst []byte
	if alone {
		dst = src.RecordBatches[:0]
	}
	r.RecordBatches = filter(ix, tag, w.topic.Dense, w.from, src.RecordBatches, dst)
}
