package offsetmap

import (
	"errors"
	"runtime"
	"sync"
	"testing"
)

// tagN returns a distinct tag per n.
func tagN(n int) Tag {
	return Tag{Topic: [16]byte{byte(n), byte(n >> 8), 0xAB}, Partition: int32(n % 3)}
}

var (
	tagA = tagN(1)
	tagB = tagN(2)
	tagC = tagN(3) // never written
)

// denseSample holds A at 0,2,3,5 and B at 1,6,7, with a control record at
// 4: A's logical offsets 0..3, B's 0..2, watermark 8.
func denseSample() *Index {
	ix := New(true)
	ix.Append(0, tagA)
	ix.Append(1, tagB)
	ix.Append(2, tagA)
	ix.Append(3, tagA)
	ix.Advance(5)
	ix.Append(5, tagA)
	ix.Append(6, tagB)
	ix.Append(7, tagB)
	ix.Append(3, tagB) // below the watermark: ignored
	return ix
}

// physicalSample holds A at 0, 2-3 and 5-9 (6-8 compacted away), B at 1
// and 10, with an untagged record at 4: watermark 11.
func physicalSample() *Index {
	ix := New(false)
	ix.Append(0, tagA)
	ix.Append(1, tagB)
	ix.Append(2, tagA)
	ix.Append(3, tagA)
	ix.Advance(5)
	ix.Append(5, tagA)
	ix.Append(9, tagA)
	ix.Append(10, tagB)
	return ix
}

func TestBounds(t *testing.T) {
	trimmed := denseSample()
	trimmed.Trim(3)
	emptied := denseSample()
	emptied.Trim(20)
	forgot := denseSample()
	forgot.Forget(tagA)
	ptrim := physicalSample()
	ptrim.Trim(3)
	tests := []struct {
		name             string
		ix               *Index
		tag              Tag
		start, end, mark int64
	}{
		{"dense A", denseSample(), tagA, 0, 4, 8},
		{"dense B", denseSample(), tagB, 0, 3, 8},
		{"dense unknown", denseSample(), tagC, 0, 0, 8},
		{"trimmed A", trimmed, tagA, 2, 4, 8},
		{"trimmed B", trimmed, tagB, 1, 3, 8},
		{"trimmed past watermark", emptied, tagA, 4, 4, 20},
		{"forgotten A", forgot, tagA, 0, 0, 8},
		{"B after forget", forgot, tagB, 0, 3, 8},
		{"physical A", physicalSample(), tagA, 0, 11, 11},
		{"physical B", physicalSample(), tagB, 1, 11, 11},
		{"physical unknown", physicalSample(), tagC, 11, 11, 11},
		{"physical trimmed A", ptrim, tagA, 3, 11, 11},
		{"physical trimmed B", ptrim, tagB, 10, 11, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, e, w := tt.ix.Start(tt.tag), tt.ix.End(tt.tag), tt.ix.Watermark(); s != tt.start || e != tt.end || w != tt.mark {
				t.Fatalf("start, end, watermark = %d, %d, %d, want %d, %d, %d", s, e, w, tt.start, tt.end, tt.mark)
			}
		})
	}
}

func TestSeek(t *testing.T) {
	trimmed := denseSample()
	trimmed.Trim(3)
	ptrim := physicalSample()
	ptrim.Trim(3)
	const oor = -1
	tests := []struct {
		name    string
		ix      *Index
		tag     Tag
		logical int64
		want    int64
	}{
		{"first", denseSample(), tagA, 0, 0},
		{"second run", denseSample(), tagA, 1, 2},
		{"inside run", denseSample(), tagA, 2, 3},
		{"after control record", denseSample(), tagA, 3, 5},
		{"end is watermark", denseSample(), tagA, 4, 8},
		{"past end", denseSample(), tagA, 5, oor},
		{"negative", denseSample(), tagA, -1, oor},
		{"B first", denseSample(), tagB, 0, 1},
		{"B last", denseSample(), tagB, 2, 7},
		{"unknown at 0", denseSample(), tagC, 0, 8},
		{"unknown past end", denseSample(), tagC, 1, oor},
		{"below trimmed start", trimmed, tagA, 1, oor},
		{"trimmed start", trimmed, tagA, 2, 3},
		{"physical record", physicalSample(), tagA, 0, 0},
		{"physical other tag's offset", physicalSample(), tagA, 1, 2},
		{"physical untagged offset", physicalSample(), tagA, 4, 5},
		{"physical hole", physicalSample(), tagA, 7, 7},
		{"physical after last run", physicalSample(), tagA, 10, 11},
		{"physical watermark", physicalSample(), tagA, 11, 11},
		{"physical past watermark", physicalSample(), tagA, 12, oor},
		{"physical before first run", physicalSample(), tagB, 0, 1},
		{"physical unknown", physicalSample(), tagC, 3, 11},
		{"physical below trim", ptrim, tagA, 2, oor},
		{"physical trim start", ptrim, tagA, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ix.Seek(tt.tag, tt.logical)
			if tt.want == oor {
				if !errors.Is(err, ErrOutOfRange) {
					t.Fatalf("Seek = %d, %v, want ErrOutOfRange", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Seek = %d, %v, want %d", got, err, tt.want)
			}
		})
	}
}

func TestLogical(t *testing.T) {
	tests := []struct {
		name       string
		ix         *Index
		tag        Tag
		phys, want int64
	}{
		{"A at its first", denseSample(), tagA, 0, 0},
		{"A at B's record", denseSample(), tagA, 1, 1},
		{"A inside run", denseSample(), tagA, 3, 2},
		{"A at control record", denseSample(), tagA, 4, 3},
		{"A after its last", denseSample(), tagA, 6, 4},
		{"A at watermark", denseSample(), tagA, 8, 4},
		{"A beyond watermark", denseSample(), tagA, 100, 4},
		{"B before its first", denseSample(), tagB, 0, 0},
		{"B in gap", denseSample(), tagB, 2, 1},
		{"B at watermark", denseSample(), tagB, 8, 3},
		{"unknown", denseSample(), tagC, 5, 0},
		{"physical is identity", physicalSample(), tagA, 7, 7},
		{"physical unknown", physicalSample(), tagC, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ix.Logical(tt.tag, tt.phys); got != tt.want {
				t.Fatalf("Logical = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	forgot := denseSample()
	forgot.Forget(tagA)
	tests := []struct {
		name        string
		ix          *Index
		tag         Tag
		first, last int64
		logical     int64
		want        Verdict
	}{
		{"whole run", denseSample(), tagA, 2, 3, 1, Mine},
		{"single record", denseSample(), tagA, 0, 0, 0, Mine},
		{"tail of run", denseSample(), tagA, 3, 3, 2, Mine},
		{"two tags", denseSample(), tagA, 0, 1, 0, Mixed},
		{"starts with other tag", denseSample(), tagA, 1, 2, 1, Mixed},
		{"runs around control", denseSample(), tagA, 3, 5, 2, Mixed},
		{"other tag only", denseSample(), tagA, 1, 1, 1, Other},
		{"control record", denseSample(), tagA, 4, 4, 3, Other},
		{"after last", denseSample(), tagA, 6, 7, 4, Other},
		{"B run", denseSample(), tagB, 6, 7, 1, Mine},
		{"reaches watermark", denseSample(), tagB, 7, 8, 2, Unknown},
		{"beyond watermark", denseSample(), tagA, 9, 12, 4, Unknown},
		{"unknown tag", denseSample(), tagC, 0, 7, 0, Other},
		{"forgotten tag", forgot, tagA, 2, 3, 0, Other},
		{"physical run across holes", physicalSample(), tagA, 5, 9, 5, Mine},
		{"physical compacted batch", physicalSample(), tagA, 6, 8, 6, Mine},
		{"physical untagged", physicalSample(), tagA, 4, 4, 4, Other},
		{"physical mixed", physicalSample(), tagA, 3, 5, 3, Mixed},
		{"physical B", physicalSample(), tagB, 10, 10, 10, Mine},
		{"physical unknown", physicalSample(), tagB, 10, 11, 10, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logical, v := tt.ix.Batch(tt.tag, tt.first, tt.last)
			if v != tt.want || logical != tt.logical {
				t.Fatalf("Batch = %d, %d, want %d, %d", logical, v, tt.logical, tt.want)
			}
		})
	}
}

func TestAfterTrimAndForget(t *testing.T) {
	tests := []struct {
		name    string
		dense   bool
		change  func(*Index)
		off     int64
		tag     Tag
		logical int64 // Logical(tag, off) after appending tag at off
	}{
		{"dense trim keeps numbering", true, func(ix *Index) { ix.Trim(20) }, 20, tagA, 4},
		{"dense forget restarts", true, func(ix *Index) { ix.Forget(tagA) }, 8, tagA, 0},
		{"dense other tag unaffected", true, func(ix *Index) { ix.Forget(tagA) }, 8, tagB, 3},
		{"physical trim", false, func(ix *Index) { ix.Trim(20) }, 20, tagA, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := physicalSample()
			if tt.dense {
				ix = denseSample()
			}
			tt.change(ix)
			ix.Append(tt.off, tt.tag)
			if got := ix.Logical(tt.tag, tt.off); got != tt.logical {
				t.Fatalf("Logical = %d, want %d", got, tt.logical)
			}
			if got, err := ix.Seek(tt.tag, tt.logical); err != nil || got != tt.off {
				t.Fatalf("Seek = %d, %v, want %d", got, err, tt.off)
			}
		})
	}
}

func TestReadsDoNotAllocate(t *testing.T) {
	for _, ix := range []*Index{denseSample(), physicalSample()} {
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = ix.Seek(tagA, 2)
			_, _ = ix.Batch(tagA, 2, 3)
			_ = ix.Logical(tagB, 4)
			_ = ix.Start(tagA) + ix.End(tagB) + ix.Watermark()
		})
		if allocs != 0 {
			t.Fatalf("reads allocate %v times", allocs)
		}
	}
}

// TestConcurrentReads runs readers against the writer; run it with -race.
func TestConcurrentReads(t *testing.T) {
	ix := New(true)
	even := tagN(0) // written at every even offset
	const n = 20000
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ix.Watermark() < n {
				end := ix.End(even)
				if end == 0 {
					continue
				}
				phys, err := ix.Seek(even, end-1)
				if err != nil || phys != 2*(end-1) {
					errs <- errors.New("inconsistent read")
					return
				}
			}
		}()
	}
	for off := int64(0); off < n; off++ {
		ix.Append(off, tagN(int(off%2)))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// heapAfterBuild returns the live heap bytes the index built by build
// holds.
func heapAfterBuild(build func() *Index) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ix)
	return after.HeapAlloc - before.HeapAlloc
}

func TestMemoryPerMillion(t *testing.T) {
	const records = 1_000_000
	const limit = 25_000_000
	tests := []struct {
		name  string
		dense bool
		tags  int
	}{
		{"dense, 2 tags alternating", true, 2},
		{"dense, 1000 tags round robin", true, 1000},
		{"dense, 10000 tags round robin", true, 10000},
		{"physical, 2 tags alternating", false, 2},
		{"physical, 1000 tags round robin", false, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bytes := heapAfterBuild(func() *Index {
				ix := New(tt.dense)
				for off := int64(0); off < records; off++ {
					ix.Append(off, tagN(int(off)%tt.tags))
				}
				return ix
			})
			t.Logf("%s: %.1f MB per million records (%d runs)", tt.name, float64(bytes)/1e6, records)
			if bytes > limit {
				t.Fatalf("%d bytes per million records, above %d", bytes, limit)
			}
		})
	}
}
