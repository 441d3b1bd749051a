package offsetmap

import (
	"errors"
	"sync"
)

// Tag identifies one logical partition: a logical topic's id and one of its
// partitions.
type Tag struct {
	Topic     [16]byte
	Partition int32
}

// Verdict tells how a physical batch relates to one tag.
type Verdict int8

const (
	// Other means the batch holds no record of the tag.
	Other Verdict = iota
	// Mine means every offset of the batch belongs to the tag.
	Mine
	// Mixed means the batch holds records of the tag and of something
	// else; the caller has to filter it record by record.
	Mixed
	// Unknown means the batch reaches past the watermark.
	Unknown
)

// ErrOutOfRange is returned by Seek for a logical offset the tag does not
// have.
var ErrOutOfRange = errors.New("offsetmap: logical offset out of range")

// run is a stretch of one tag's records.
type run struct {
	// first is the physical offset of the run's first record.
	first int64
	// mark is, in Dense mode, the logical offset of the first record (the
	// run's length is the next run's mark, or the tag's next offset, minus
	// this one); in Physical mode it is the run's last physical offset.
	mark int64
}

// tagState is what the index holds for one tag.
type tagState struct {
	runs []run
	// next is the logical offset the tag's next record gets (Dense mode).
	next int64
	// seen is the physical offset where the tag became known; checkpoints
	// list the tag from the chunk holding seen onwards.
	seen int64
}

// Index maps the physical offsets of one physical partition to the logical
// offsets of the tags written to it. It is safe for one writer and many
// readers at the same time.
type Index struct {
	mu        sync.RWMutex
	dense     bool
	start     int64 // offsets below start were trimmed
	watermark int64 // every offset below watermark is indexed
	tags      map[Tag]*tagState
	// lastTag is the tag of the latest record, or nil when something not
	// tagged came after it. In Physical mode a tag's records with only
	// holes between them share one run.
	lastTag *tagState
}

// New returns an empty index. With dense set, each tag's records are
// numbered 0, 1, 2, …; otherwise their physical offsets are their logical
// ones.
func New(dense bool) *Index {
	return &Index{dense: dense, tags: map[Tag]*tagState{}}
}

// Append records that the record at physical offset off belongs to tag.
// Offsets are appended in increasing order; an offset below Watermark is
// ignored, so replaying part of the log is harmless. In Physical mode,
// offsets skipped between two records of the same tag (removed by
// compaction) count as that tag's holes.
func (ix *Index) Append(off int64, tag Tag) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if off < ix.watermark {
		return
	}
	ts := ix.tags[tag]
	if ts == nil {
		ts = &tagState{seen: off}
		ix.tags[tag] = ts
	}
	ix.extend(ts, off, off)
	ix.watermark = off + 1
}

// Advance records that every offset below to is indexed: the offsets
// between Watermark and to hold nothing tagged (control records, records
// of no tag, holes). It ends the current run in both modes.
func (ix *Index) Advance(to int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if to > ix.watermark {
		ix.watermark = to
		ix.lastTag = nil
	}
}

// Trim drops everything below physStart, as the broker does when its
// retention deletes old segments; Start of the tags moves accordingly.
func (ix *Index) Trim(physStart int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if physStart <= ix.start {
		return
	}
	ix.start = physStart
	if ix.watermark < physStart {
		ix.watermark = physStart
		ix.lastTag = nil
	}
	for _, ts := range ix.tags {
		k := ix.find(ts, physStart)
		if k < len(ts.runs) && ts.runs[k].first < physStart {
			if ix.dense {
				ts.runs[k].mark += physStart - ts.runs[k].first
			}
			ts.runs[k].first = physStart
		}
		if k > 0 {
			ts.runs = append(ts.runs[:0], ts.runs[k:]...)
		}
	}
}

// Forget drops a tag, for a deleted logical topic. Checkpoints taken
// before the call still hold it, so a caller restoring them forgets
// deleted topics again.
func (ix *Index) Forget(tag Tag) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ts := ix.tags[tag]; ts != nil && ts == ix.lastTag {
		ix.lastTag = nil
	}
	delete(ix.tags, tag)
}

// extend adds the offsets [first,last] to ts, merging them into its latest
// run when they continue it.
func (ix *Index) extend(ts *tagState, first, last int64) {
	n := len(ts.runs)
	switch {
	case ix.dense:
		if n == 0 || ix.runLast(ts, n-1) != first-1 {
			ts.runs = append(grow(ts.runs), run{first: first, mark: ts.next})
		}
		ts.next += last - first + 1
	case n > 0 && ix.lastTag == ts:
		ts.runs[n-1].mark = last
	default:
		ts.runs = append(grow(ts.runs), run{first: first, mark: last})
	}
	ix.lastTag = ts
}

// grow makes room for one more run, growing by a quarter rather than
// letting append double small slices, which bounds the slack to 25%.
func grow(runs []run) []run {
	if len(runs) < cap(runs) {
		return runs
	}
	bigger := make([]run, len(runs), len(runs)+len(runs)/4+1)
	copy(bigger, runs)
	return bigger
}

// runLast returns the last physical offset of run i of ts.
func (ix *Index) runLast(ts *tagState, i int) int64 {
	r := ts.runs[i]
	if !ix.dense {
		return r.mark
	}
	end := ts.next
	if i+1 < len(ts.runs) {
		end = ts.runs[i+1].mark
	}
	return r.first + end - r.mark - 1
}

// find returns the index of the first run of ts ending at or after phys,
// or len(ts.runs) when there is none.
func (ix *Index) find(ts *tagState, phys int64) int {
	lo, hi := 0, len(ts.runs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts.runs[m].first <= phys {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo > 0 && ix.runLast(ts, lo-1) >= phys {
		return lo - 1
	}
	return lo
}
