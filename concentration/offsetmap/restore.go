package offsetmap

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// chunk is one decoded checkpoint.
type chunk struct {
	n      int64
	table  []tagEntry
	pieces []piece
}

// Restore rebuilds an index from the checkpoints of consecutive chunks,
// in any order. The first chunk may be above 0 when older ones were
// trimmed; Watermark is the end of the last chunk. Tags missing from a
// chunk's table were forgotten and are dropped.
func Restore(dense bool, chunks [][]byte) (*Index, error) {
	decoded := make([]chunk, len(chunks))
	for i, b := range chunks {
		c, err := decodeChunk(dense, b)
		if err != nil {
			return nil, fmt.Errorf("offsetmap: checkpoint %d: %w", i, err)
		}
		decoded[i] = c
	}
	slices.SortFunc(decoded, func(a, b chunk) int { return cmp.Compare(a.n, b.n) })
	// Each tag's runs are allocated once, for all its pieces.
	pieces := map[Tag]int{}
	for _, c := range decoded {
		counts := make([]int, len(c.table))
		for _, p := range c.pieces {
			counts[p.idx]++
		}
		for i, e := range c.table {
			pieces[e.tag] += counts[i]
		}
	}
	ix := New(dense)
	for i, c := range decoded {
		if i == 0 {
			ix.start, ix.watermark = c.n*ChunkSize, c.n*ChunkSize
		} else if c.n != decoded[i-1].n+1 {
			return nil, fmt.Errorf("offsetmap: chunk %d does not follow chunk %d", c.n, decoded[i-1].n)
		}
		if err := ix.apply(c, i == 0, pieces); err != nil {
			return nil, fmt.Errorf("offsetmap: chunk %d: %w", c.n, err)
		}
	}
	return ix, nil
}

// apply adds a decoded chunk to the index, which ends at the chunk's
// start; pieces tells how many runs to make room for per new tag.
func (ix *Index) apply(c chunk, first bool, pieces map[Tag]int) error {
	start := c.n * ChunkSize
	states := make([]*tagState, len(c.table))
	for i, e := range c.table {
		ts := ix.tags[e.tag]
		switch {
		case ts == nil && !first && e.logical != 0:
			return fmt.Errorf("new tag %x/%d starts at logical offset %d", e.tag.Topic, e.tag.Partition, e.logical)
		case ts == nil:
			ts = &tagState{next: e.logical, seen: start, runs: make([]run, 0, pieces[e.tag])}
			ix.tags[e.tag] = ts
		case ts.next != e.logical:
			return fmt.Errorf("tag %x/%d ends at %d, the previous chunk says %d", e.tag.Topic, e.tag.Partition, e.logical, ts.next)
		}
		states[i] = ts
	}
	if len(ix.tags) > len(c.table) {
		ix.forgetAbsent(c.table)
	}
	prev := start
	for _, p := range c.pieces {
		if p.first != prev {
			ix.lastTag = nil
		}
		ix.extend(states[p.idx], p.first, p.last)
		prev = p.last + 1
	}
	ix.watermark = start + ChunkSize
	if prev != ix.watermark {
		ix.lastTag = nil
	}
	return nil
}

// forgetAbsent drops the tags missing from table.
func (ix *Index) forgetAbsent(table []tagEntry) {
	keep := make(map[Tag]bool, len(table))
	for _, e := range table {
		keep[e.tag] = true
	}
	for tag, ts := range ix.tags {
		if !keep[tag] {
			if ts == ix.lastTag {
				ix.lastTag = nil
			}
			delete(ix.tags, tag)
		}
	}
}

// decodeChunk parses and checks one checkpoint.
func decodeChunk(dense bool, b []byte) (chunk, error) {
	d := decoder{b: b}
	var c chunk
	if v := d.byte(); d.err == nil && v != version {
		return c, fmt.Errorf("unknown version %d", v)
	}
	mode := d.byte()
	if want := modeByte(dense); d.err == nil && mode != want {
		return c, fmt.Errorf("mode %d, want %d", mode, want)
	}
	c.n = int64(d.uvarint(maxChunk))
	start := c.n * ChunkSize
	// A table row takes at least 18 bytes.
	c.table = make([]tagEntry, d.uvarint(uint64(len(d.b)/18)))
	for i := range c.table {
		e := &c.table[i]
		copy(e.tag.Topic[:], d.bytes(16))
		e.tag.Partition = int32(d.varint(math.MinInt32, math.MaxInt32))
		e.logical = int64(d.uvarint(uint64(start)))
		switch {
		case d.err != nil:
			return c, d.err
		case !dense && e.logical != 0:
			return c, fmt.Errorf("tag %d: logical offset %d in Physical mode", i, e.logical)
		case i > 0 && compareEntries(c.table[i-1], *e) >= 0:
			return c, fmt.Errorf("tag %d: table not sorted", i)
		}
	}
	// A run takes at least 3 bytes.
	c.pieces = make([]piece, d.uvarint(uint64(min(len(d.b)/3, ChunkSize))))
	if len(c.pieces) > 0 && len(c.table) == 0 {
		return c, errors.New("runs without tags")
	}
	prev, end := start, start+ChunkSize
	for i := range c.pieces {
		p := &c.pieces[i]
		p.first = prev + int64(d.uvarint(uint64(end-prev-1)))
		p.last = p.first + int64(d.uvarint(uint64(end-p.first-1)))
		p.idx = int(d.uvarint(uint64(len(c.table) - 1)))
		switch {
		case d.err != nil:
			return c, d.err
		case i > 0 && p.first == prev && p.idx == c.pieces[i-1].idx:
			return c, fmt.Errorf("run %d continues run %d", i, i-1)
		}
		prev = p.last + 1
		if prev == end && i+1 < len(c.pieces) {
			return c, fmt.Errorf("run %d fills the chunk but more follow", i)
		}
	}
	if d.err == nil && len(d.b) > 0 {
		return c, fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return c, d.err
}

var (
	// errShort reports a checkpoint that ends too early.
	errShort = errors.New("truncated")
	// errNotMinimal reports a varint with needless bytes: every index has
	// exactly one encoding.
	errNotMinimal = errors.New("varint not minimally encoded")
)

// decoder reads a checkpoint and keeps its first error; after an error
// every read returns zero.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errShort
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

// uvarint reads an unsigned varint no larger than limit.
func (d *decoder) uvarint(limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.err = errShort
	case n < 0:
		d.err = errors.New("varint overflows 64 bits")
	case n > 1 && d.b[n-1] == 0:
		d.err = errNotMinimal
	case v > limit:
		d.err = fmt.Errorf("value %d above %d", v, limit)
	default:
		d.b = d.b[n:]
		return v
	}
	return 0
}

// varint reads a signed varint within [lo,hi].
func (d *decoder) varint(lo, hi int64) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	switch {
	case n == 0:
		d.err = errShort
	case n < 0:
		d.err = errors.New("varint overflows 64 bits")
	case n > 1 && d.b[n-1] == 0:
		d.err = errNotMinimal
	case v < lo || v > hi:
		d.err = fmt.Errorf("value %d outside [%d,%d]", v, lo, hi)
	default:
		d.b = d.b[n:]
		return v
	}
	return 0
}
