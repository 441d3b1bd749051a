package gateway

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
)

// echoBroker answers every request frame with a fixed-size response that
// carries the request's correlation id. It allocates nothing per frame, so
// allocation counts in the benchmarks below belong to the gateway.
func echoBroker(t testing.TB, respBody int) net.Addr {
	return fakeBroker(t, func(c net.Conn) {
		req := make([]byte, 4<<20)
		resp := make([]byte, 8+respBody)
		binary.BigEndian.PutUint32(resp, uint32(4+respBody))
		for {
			if _, err := io.ReadFull(c, req[:12]); err != nil {
				return
			}
			size := binary.BigEndian.Uint32(req)
			if _, err := io.ReadFull(c, req[12:4+size]); err != nil {
				return
			}
			copy(resp[4:8], req[8:12])
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	})
}

// passthroughGateway starts a gateway in front of an echo broker and
// returns a client connection to it.
func passthroughGateway(t testing.TB, respBody int) net.Conn {
	start := gatewayInFront(t, echoBroker(t, respBody), 100)
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(start)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// passthroughFrame is a ListOffsets request (never inspected) whose body is
// filler of the given size.
func passthroughFrame(body int) []byte {
	f := make([]byte, 4+10+body)
	binary.BigEndian.PutUint32(f, uint32(10+body))
	binary.BigEndian.PutUint16(f[4:], 2) // ListOffsets
	binary.BigEndian.PutUint16(f[6:], 7)
	binary.BigEndian.PutUint16(f[12:], 0) // empty client id
	return f
}

func benchmarkPassthrough(b *testing.B, reqBody int) {
	c := passthroughGateway(b, 64)
	req := passthroughFrame(reqBody)
	resp := make([]byte, 8+64)
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint32(req[8:], uint32(i))
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			b.Fatal(err)
		}
		if int32(binary.BigEndian.Uint32(resp[4:])) != int32(i) {
			b.Fatal("correlation id mismatch")
		}
	}
}

// BenchmarkPassthroughSmall measures a request/response round trip of a
// frame the gateway only peeks at (buffered path).
func BenchmarkPassthroughSmall(b *testing.B) { benchmarkPassthrough(b, 1024) }

// BenchmarkPassthroughLarge measures a 1 MiB frame, streamed socket to
// socket.
func BenchmarkPassthroughLarge(b *testing.B) { benchmarkPassthrough(b, 1<<20) }

// TestPassthroughDoesNotAllocate proves the passthrough path allocates
// nothing per frame, for frames both under and over the chunk size.
func TestPassthroughDoesNotAllocate(t *testing.T) {
	for _, size := range []int{100, 4096, 256 << 10} {
		c := passthroughGateway(t, 64)
		req := passthroughFrame(size)
		resp := make([]byte, 8+64)
		var corr uint32
		roundTrip := func() {
			corr++
			binary.BigEndian.PutUint32(req[8:], corr)
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, resp); err != nil {
				t.Fatal(err)
			}
		}
		roundTrip() // warm up buffers and pools
		if allocs := testing.AllocsPerRun(200, roundTrip); allocs >= 0.5 {
			t.Errorf("frame of %d bytes: %.2f allocations per round trip", size, allocs)
		}
	}
}

// TestBrokerGoneClosesClient: when the broker drops the connection while a
// request waits for its response, the gateway closes the client connection
// at once instead of leaving the client waiting.
func TestBrokerGoneClosesClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				head := make([]byte, 12)
				_, _ = io.ReadFull(c, head)
				_ = c.Close() // read a request, never answer
			}()
		}
	}()
	start := gatewayInFront(t, ln.Addr(), 10)
	raw := dialRaw(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(start)))
	if _, err := raw.conn.Write(passthroughFrame(10)); err != nil {
		t.Fatal(err)
	}
	if !raw.closedByPeer() {
		t.Fatal("client left waiting after the broker went away")
	}
}
