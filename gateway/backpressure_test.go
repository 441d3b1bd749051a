package gateway

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestInFlightLimitAppliesBackpressure: with MaxInFlight requests waiting
// for a broker that does not answer, the gateway stops reading from the
// client, so the broker never sees more; once the broker answers, every
// response reaches the client in order.
func TestInFlightLimitAppliesBackpressure(t *testing.T) {
	const limit, sent = 3, 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var received atomic.Int32
	release := make(chan struct{})
	var once sync.Once
	releaseOnce := func() { once.Do(func() { close(release) }) }
	defer releaseOnce()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		corrs := make(chan uint32, sent)
		go func() { // answers nothing until released, then everything in order
			<-release
			for corr := range corrs {
				resp := make([]byte, 8)
				binary.BigEndian.PutUint32(resp, 4)
				binary.BigEndian.PutUint32(resp[4:], corr)
				if _, err := c.Write(resp); err != nil {
					return
				}
			}
		}()
		defer close(corrs)
		buf := make([]byte, 1<<16)
		for {
			if _, err := io.ReadFull(c, buf[:12]); err != nil {
				return
			}
			size := binary.BigEndian.Uint32(buf)
			if _, err := io.ReadFull(c, buf[12:4+size]); err != nil {
				return
			}
			received.Add(1)
			corrs <- binary.BigEndian.Uint32(buf[8:])
		}
	}()
	start := gatewayInFront(t, ln.Addr(), limit)

	raw := dialRaw(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(start)))
	for i := range sent {
		f := passthroughFrame(100)
		binary.BigEndian.PutUint32(f[8:], uint32(i))
		if _, err := raw.conn.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if got := received.Load(); got != limit {
		t.Fatalf("broker received %d requests while %d were unanswered; the limit is %d", got, limit, limit)
	}
	releaseOnce()
	for i := range sent {
		head := make([]byte, 8)
		if _, err := io.ReadFull(raw.conn, head); err != nil {
			t.Fatal(err)
		}
		if corr := binary.BigEndian.Uint32(head[4:]); corr != uint32(i) {
			t.Fatalf("response %d has correlation id %d", i, corr)
		}
	}
}
