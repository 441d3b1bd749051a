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

// putBuffer returns a buffer to the pool. Very large buffers are dropped so
// one huge response does not pin its memory forever.
func putBuffer(b *[]byte) {
	if cap(*b) > 8<<20 {
		return
	}
	buffers.Put(b)
}
