package gateway

import "sync"

// buffers pools the scratch space for responses the gateway decodes and
// re-encodes. Pointers to slices are pooled so that Put does not allocate.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// getBuffer returns a pooled buffer with capacity for at least n bytes.
func getBuffer(n int) *[]byte {
	b := buffers.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, 0, n)
	}
	*b = (*b)[:0]
	return b
}

// maxPooled bounds the buffers kept for reuse. Fetch responses the gateway
// scans are as large as the client's fetch.max.bytes (50 MiB by default);
// keeping those buffers saves allocating and faulting in that much memory
// for every fetch. Larger ones are dropped, and the pool itself lets idle
// buffers go at garbage collection.
const maxPooled = 64 << 20

// putBuffer returns a buffer to the pool.
func putBuffer(b *[]byte) {
	if cap(*b) > maxPooled {
		return
	}
	buffers.Put(b)
}
