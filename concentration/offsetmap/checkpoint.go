package offsetmap

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
)

// ChunkSize is the number of physical offsets one checkpoint covers: chunk
// n covers [n*ChunkSize, (n+1)*ChunkSize).
const ChunkSize = 1 << 16

// MaxCheckpointSize bounds the encoding of one chunk. A chunk holds at
// most ChunkSize runs of at most 5 bytes each while the partition has
// fewer than 2^21 tags (about 330 KB), plus at most 30 bytes per tag
// known at the chunk's start; it stays below this bound up to about
// 20,000 logical partitions per physical partition. Checkpoint refuses
// to produce more.
const MaxCheckpointSize = 1 << 20

// version is the first byte of every checkpoint.
const version = 1

// maxChunk is the largest chunk number whose offsets fit an int64.
const maxChunk = (1<<63-1)/ChunkSize - 1

// piece is the part of one run that lies inside a chunk; idx points into
// the chunk's tag table.
type piece struct {
	first, last int64
	idx         int
}

// tagEntry is one row of a chunk's tag table: a tag and its logical end at
// the chunk's start (0 in Physical mode).
type tagEntry struct {
	tag     Tag
	logical int64
}

// Sealed returns the chunk numbers [first,end) that the index can encode:
// chunks entirely below Watermark and not trimmed, even partly.
func (ix *Index) Sealed() (first, end int64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.sealed()
}

func (ix *Index) sealed() (first, end int64) {
	first = (ix.start + ChunkSize - 1) / ChunkSize
	end = ix.watermark / ChunkSize
	return min(first, end), end
}

// Checkpoint encodes sealed chunk n: a version byte, the mode, the chunk
// number, the tag table (each tag known at the chunk's start or seen in
// it, sorted, with its logical end at the chunk's start), then the runs
// inside the chunk as (gap since the previous run, length - 1, tag table
// index) uvarints. Dense logical offsets are implied by the numbering.
func (ix *Index) Checkpoint(n int64) ([]byte, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if first, end := ix.sealed(); n < first || n >= end {
		return nil, fmt.Errorf("offsetmap: chunk %d is not sealed and held (held: [%d,%d))", n, first, end)
	}
	start, end := n*ChunkSize, (n+1)*ChunkSize
	var table []tagEntry
	for tag, ts := range ix.tags {
		if ts.seen < end {
			table = append(table, tagEntry{tag: tag})
		}
	}
	slices.SortFunc(table, compareEntries)
	var pieces []piece
	for i := range table {
		ts := ix.tags[table[i].tag]
		if ix.dense {
			table[i].logical = ix.logical(ts, start)
		}
		for k := ix.find(ts, start); k < len(ts.runs) && ts.runs[k].first < end; k++ {
			pieces = append(pieces, piece{
				first: max(ts.runs[k].first, start),
				last:  min(ix.runLast(ts, k), end-1),
				idx:   i,
			})
		}
	}
	slices.SortFunc(pieces, func(a, b piece) int { return cmp.Compare(a.first, b.first) })

	buf := []byte{version, modeByte(ix.dense)}
	buf = binary.AppendUvarint(buf, uint64(n))
	buf = binary.AppendUvarint(buf, uint64(len(table)))
	for _, e := range table {
		buf = append(buf, e.tag.Topic[:]...)
		buf = binary.AppendVarint(buf, int64(e.tag.Partition))
		buf = binary.AppendUvarint(buf, uint64(e.logical))
	}
	buf = binary.AppendUvarint(buf, uint64(len(pieces)))
	prev := start
	for _, p := range pieces {
		buf = binary.AppendUvarint(buf, uint64(p.first-prev))
		buf = binary.AppendUvarint(buf, uint64(p.last-p.first))
		buf = binary.AppendUvarint(buf, uint64(p.idx))
		prev = p.last + 1
	}
	if len(buf) > MaxCheckpointSize {
		return nil, fmt.Errorf("offsetmap: chunk %d needs %d bytes, more than %d (%d tags)", n, len(buf), MaxCheckpointSize, len(table))
	}
	return buf, nil
}

// modeByte encodes the numbering mode.
func modeByte(dense bool) byte {
	if dense {
		return 0
	}
	return 1
}

func compareEntries(a, b tagEntry) int {
	if c := bytes.Compare(a.tag.Topic[:], b.tag.Topic[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.tag.Partition, b.tag.Partition)
}
