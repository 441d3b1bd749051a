package offsetmap

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// drive applies the operations coded by ops to ix and returns the
// physical offsets worth querying. Each byte is one operation: its low
// three bits pick it, the rest its argument.
func drive(ix *Index, ops []byte) []int64 {
	var points []int64
	for _, op := range ops {
		w, arg := ix.Watermark(), int64(op>>3)
		tag := tagN(int(arg % 5))
		switch op & 7 {
		case 0, 1, 2, 3:
			ix.Append(w, tag)
		case 4: // records removed by compaction before this one
			ix.Append(w+3, tag)
		case 5: // a few untagged records
			ix.Advance(w + 1 + arg%4)
		case 6: // a long stretch of other data, crossing chunks
			ix.Advance(w + ChunkSize/2 + arg*1000)
		case 7:
			ix.Forget(tag)
		}
		points = append(points, w-1, w, ix.Watermark())
	}
	return points
}

// seal advances ix to the next chunk boundary and returns the
// checkpoints of all its sealed chunks.
func seal(t testing.TB, ix *Index) [][]byte {
	w := ix.Watermark()
	ix.Advance((w + ChunkSize - 1) / ChunkSize * ChunkSize)
	var chunks [][]byte
	first, end := ix.Sealed()
	for n := first; n < end; n++ {
		b, err := ix.Checkpoint(n)
		if err != nil {
			t.Fatalf("Checkpoint(%d): %v", n, err)
		}
		chunks = append(chunks, b)
	}
	return chunks
}

// sameAnswers fails unless a and b answer every query alike for the tags
// the ops can use, at the given physical offsets.
func sameAnswers(t testing.TB, a, b *Index, points []int64) {
	t.Helper()
	points = append(points, 0, a.Watermark()-1, a.Watermark(), a.Watermark()+1)
	for n := int64(0); n <= a.Watermark()/ChunkSize; n++ {
		points = append(points, n*ChunkSize-1, n*ChunkSize)
	}
	slices.Sort(points)
	points = slices.Compact(points)
	if a.Watermark() != b.Watermark() {
		t.Fatalf("watermark %d vs %d", a.Watermark(), b.Watermark())
	}
	for i := range 6 {
		tag := tagN(i)
		if a.Start(tag) != b.Start(tag) || a.End(tag) != b.End(tag) {
			t.Fatalf("tag %d: bounds [%d,%d] vs [%d,%d]", i, a.Start(tag), a.End(tag), b.Start(tag), b.End(tag))
		}
		logicals := points
		if a.dense {
			logicals = nil
			for l := a.Start(tag) - 1; l <= a.End(tag)+1; l++ {
				logicals = append(logicals, l)
			}
		}
		for _, l := range logicals {
			pa, ea := a.Seek(tag, l)
			pb, eb := b.Seek(tag, l)
			if pa != pb || ea != eb {
				t.Fatalf("tag %d: Seek(%d) = %d, %v vs %d, %v", i, l, pa, ea, pb, eb)
			}
		}
		for j, p := range points {
			if a.Logical(tag, p) != b.Logical(tag, p) {
				t.Fatalf("tag %d: Logical(%d) = %d vs %d", i, p, a.Logical(tag, p), b.Logical(tag, p))
			}
			for _, q := range points[j:min(j+4, len(points))] {
				la, va := a.Batch(tag, p, q)
				lb, vb := b.Batch(tag, p, q)
				if la != lb || va != vb {
					t.Fatalf("tag %d: Batch(%d,%d) = %d, %d vs %d, %d", i, p, q, la, va, lb, vb)
				}
			}
		}
	}
}

// roundTrip checks that restoring the checkpoints of an index built by
// ops gives an index answering alike, before and after both receive more
// operations.
func roundTrip(t testing.TB, dense bool, ops, more []byte) {
	orig := New(dense)
	points := drive(orig, ops)
	chunks := seal(t, orig)
	rand.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })
	restored, err := Restore(dense, chunks)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	sameAnswers(t, orig, restored, points)
	points = append(points, drive(orig, more)...)
	drive(restored, more)
	sameAnswers(t, orig, restored, points)
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		ops, more []byte
	}{
		{"empty", nil, nil},
		{"alternating", []byte{0, 8, 0, 8, 0, 8, 6, 0, 8}, []byte{0, 8, 0}},
		{"runs across chunks", []byte{0, 0, 6, 0, 0, 6 | 8<<3, 0}, []byte{0, 0}},
		{"holes and gaps", []byte{0, 4, 5, 4, 8, 12, 6, 4}, []byte{4, 12, 4}},
		{"forget", []byte{0, 8, 0, 7, 6, 8, 0}, []byte{0, 15, 8}},
	}
	for _, tt := range tests {
		for _, dense := range []bool{true, false} {
			t.Run(tt.name, func(t *testing.T) { roundTrip(t, dense, tt.ops, tt.more) })
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		ops := make([]byte, rng.IntN(300))
		for i := range ops {
			ops[i] = byte(rng.UintN(256))
		}
		roundTrip(t, rng.IntN(2) == 0, ops[:len(ops)*3/4], ops[len(ops)*3/4:])
	}
}

// TestRestoreAfterTrim restores from the chunks left after the oldest
// were trimmed: the numbering goes on where it was.
func TestRestoreAfterTrim(t *testing.T) {
	orig := New(true)
	orig.Append(0, tagA)
	orig.Append(1, tagA)
	orig.Advance(ChunkSize + 5)
	orig.Append(ChunkSize+5, tagB)
	orig.Advance(3 * ChunkSize)
	orig.Trim(ChunkSize)
	chunks := seal(t, orig)
	if len(chunks) != 2 {
		t.Fatalf("%d chunks sealed and held, want 2", len(chunks))
	}
	restored, err := Restore(true, chunks)
	if err != nil {
		t.Fatal(err)
	}
	restored.Append(3*ChunkSize, tagA)
	if got := restored.Logical(tagA, 3*ChunkSize); got != 2 {
		t.Fatalf("A's next record got %d, want 2", got)
	}
	if s, e := restored.Start(tagB), restored.End(tagB); s != 0 || e != 1 {
		t.Fatalf("B bounds [%d,%d], want [0,1]", s, e)
	}
}

func TestCheckpointErrors(t *testing.T) {
	ix := New(true)
	ix.Append(0, tagA)
	ix.Advance(2 * ChunkSize)
	ix.Trim(1)
	for _, n := range []int64{-1, 0, 2} {
		if _, err := ix.Checkpoint(n); err == nil {
			t.Fatalf("Checkpoint(%d) of chunks [1,2) succeeded", n)
		}
	}
}

// TestCheckpointWorstCase fills a chunk with records of 20,000 tags in
// turn, every record its own run.
func TestCheckpointWorstCase(t *testing.T) {
	ix := New(true)
	for off := int64(0); off < ChunkSize; off++ {
		ix.Append(off, tagN(int(off%20000)))
	}
	b, err := ix.Checkpoint(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("worst-case chunk: %d bytes", len(b))
	if _, err := Restore(true, [][]byte{b}); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreRejects(t *testing.T) {
	ix := New(true)
	ix.Append(0, tagA)
	ix.Append(1, tagB)
	ix.Append(ChunkSize, tagA)
	chunks := seal(t, ix)
	good0, good1 := chunks[0], chunks[1]
	edit := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	tests := []struct {
		name   string
		dense  bool
		chunks [][]byte
	}{
		{"empty", true, [][]byte{{}}},
		{"version", true, [][]byte{edit(good0, func(b []byte) []byte { b[0] = 9; return b })}},
		{"mode", false, [][]byte{good0}},
		{"truncated", true, [][]byte{good0[:len(good0)-1]}},
		{"trailing", true, [][]byte{append(bytes.Clone(good0), 0)}},
		{"gap between chunks", true, [][]byte{good0, edit(good1, func(b []byte) []byte { b[2] = 2; return b })}},
		{"duplicate chunk", true, [][]byte{good0, good0}},
		{"tag index out of table", true, [][]byte{edit(good0, func(b []byte) []byte { b[len(b)-1] = 5; return b })}},
		{"unsorted table", true, [][]byte{edit(good0, func(b []byte) []byte { b[4], b[4+18] = b[4+18], b[4]; return b })}},
		{"logical end disagrees", true, [][]byte{good0, edit(good1, func(b []byte) []byte { b[4+17] = 0; return b })}},
		{"not minimal", true, [][]byte{append([]byte{1, 0, 0x80, 0}, good0[3:]...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Restore(tt.dense, tt.chunks)
			if err == nil {
				t.Fatal("Restore accepted it")
			}
			t.Log(err)
		})
	}
	if _, err := Restore(true, [][]byte{good1, good0}); err != nil {
		t.Fatalf("unmodified chunks: %v", err)
	}
}

// FuzzRestore feeds arbitrary bytes to Restore: it never panics, and what
// it accepts encodes back to the same bytes.
func FuzzRestore(f *testing.F) {
	for _, dense := range []bool{true, false} {
		ix := New(dense)
		drive(ix, []byte{0, 8, 0, 4, 5, 8, 6, 16, 0, 7, 8})
		for _, b := range seal(f, ix) {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dense := range []bool{true, false} {
			ix, err := Restore(dense, [][]byte{b})
			if err != nil {
				continue
			}
			first, end := ix.Sealed()
			if end != first+1 {
				t.Fatalf("one chunk restored, sealed [%d,%d)", first, end)
			}
			again, err := ix.Checkpoint(first)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("re-encoded as %x, %v; was %x", again, err, b)
			}
		}
	})
}

// FuzzRoundTrip checks the round trip of indexes built from arbitrary
// operations.
func FuzzRoundTrip(f *testing.F) {
	f.Add(true, []byte{0, 8, 0, 4, 5, 8, 6, 16, 0, 7, 8}, []byte{0, 8})
	f.Add(false, []byte{0, 4, 4, 6, 12, 0}, []byte{4, 0})
	f.Fuzz(func(t *testing.T, dense bool, ops, more []byte) {
		if len(ops)+len(more) > 400 {
			return
		}
		roundTrip(t, dense, ops, more)
	})
}

func BenchmarkRestore(b *testing.B) {
	const records = 16 * ChunkSize
	ix := New(true)
	for off := int64(0); off < records; off++ {
		ix.Append(off, tagN(int(off%100)))
	}
	chunks := seal(b, ix)
	size := 0
	for _, c := range chunks {
		size += len(c)
	}
	for b.Loop() {
		if _, err := Restore(true, chunks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(size), "checkpoint-bytes")
}
