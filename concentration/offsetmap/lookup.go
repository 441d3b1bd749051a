package offsetmap

// Watermark returns the physical offset below which every offset is
// indexed.
func (ix *Index) Watermark() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.watermark
}

// Start returns the first logical offset tag still has. In Physical mode
// it is the first physical offset of the tag's runs, or Watermark when it
// has none.
func (ix *Index) Start(tag Tag) int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ts := ix.tags[tag]
	switch {
	case ix.dense && ts == nil:
		return 0
	case ix.dense && len(ts.runs) == 0:
		return ts.next
	case ix.dense:
		return ts.runs[0].mark
	case ts == nil || len(ts.runs) == 0:
		return ix.watermark
	}
	return ts.runs[0].first
}

// End returns the logical offset the next record of tag will get; in
// Physical mode that is Watermark.
func (ix *Index) End(tag Tag) int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.end(ix.tags[tag])
}

func (ix *Index) end(ts *tagState) int64 {
	switch {
	case !ix.dense:
		return ix.watermark
	case ts == nil:
		return 0
	}
	return ts.next
}

// Logical translates a physical bound (high watermark, last stable offset,
// log start offset) into the tag's numbering: the logical offset that the
// first record of tag at or after phys has, or will have when it is not
// written yet. In Physical mode it returns phys.
func (ix *Index) Logical(tag Tag, phys int64) int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.logical(ix.tags[tag], phys)
}

func (ix *Index) logical(ts *tagState, phys int64) int64 {
	if !ix.dense {
		return phys
	}
	if ts == nil {
		return 0
	}
	i := ix.find(ts, phys)
	if i == len(ts.runs) {
		return ts.next
	}
	r := ts.runs[i]
	if phys <= r.first {
		return r.mark
	}
	return r.mark + phys - r.first
}

// Seek returns the physical offset where a fetch of tag at logical offset
// logical starts: the offset of the record with that logical offset, or
// Watermark when logical is End. In Dense mode, ErrOutOfRange is returned
// for offsets below Start or above End. In Physical mode the offsets below
// the first run are holes of the tag, as on a compacted topic, so only
// offsets below the trimmed start or above Watermark are out of range.
func (ix *Index) Seek(tag Tag, logical int64) (int64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ts := ix.tags[tag]
	if !ix.dense {
		if logical < ix.start || logical > ix.watermark {
			return 0, ErrOutOfRange
		}
		if ts == nil {
			return ix.watermark, nil
		}
		i := ix.find(ts, logical)
		if i == len(ts.runs) {
			return ix.watermark, nil
		}
		return max(ts.runs[i].first, logical), nil
	}
	end := ix.end(ts)
	switch {
	case logical == end:
		return ix.watermark, nil
	case ts == nil || len(ts.runs) == 0 || logical < ts.runs[0].mark || logical > end:
		return 0, ErrOutOfRange
	}
	lo, hi := 0, len(ts.runs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts.runs[m].mark <= logical {
			lo = m + 1
		} else {
			hi = m
		}
	}
	r := ts.runs[lo-1]
	return r.first + logical - r.mark, nil
}

// Batch classifies the physical batch spanning offsets [first,last] for
// tag. logicalFirst is Logical(tag, first): for a Mine batch, the logical
// offset of its first record; for a Mixed one, that of its first record of
// tag.
func (ix *Index) Batch(tag Tag, first, last int64) (logicalFirst int64, v Verdict) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ts := ix.tags[tag]
	logicalFirst = ix.logical(ts, first)
	if last >= ix.watermark {
		return logicalFirst, Unknown
	}
	if ts == nil {
		return logicalFirst, Other
	}
	i := ix.find(ts, first)
	switch {
	case i == len(ts.runs) || ts.runs[i].first > last:
		return logicalFirst, Other
	case ts.runs[i].first <= first && ix.runLast(ts, i) >= last:
		return logicalFirst, Mine
	}
	return logicalFirst, Mixed
}
