package gateway

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/interceptor"
)

// fixedChains serves one chain to every connection.
type fixedChains struct{ ch *interceptor.Chain }

func (f fixedChains) Generation() uint64                         { return f.ch.Generation }
func (f fixedChains) Chain(*interceptor.Conn) *interceptor.Chain { return f.ch }

// metadataPolicy renames the client, throttles Metadata and refuses
// CreateTopics, to exercise each effect on the frame path.
type metadataPolicy struct{ interceptor.Base }

func (metadataPolicy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{3, 19}}
}

func (metadataPolicy) Request(c *interceptor.Call, req kmsg.Request) {
	switch req.(type) {
	case *kmsg.MetadataRequest:
		id := "renamed-" + c.Var("user")
		c.ClientID = &id
		c.Throttle(150*time.Millisecond, "", "test")
	case *kmsg.CreateTopicsRequest:
		c.Block(kerr.PolicyViolation.Code, "", "no topics today")
	}
}

// TestInterceptedFramePath runs a chain in front of a raw broker: the
// broker sees the rewritten client id, the throttled answer arrives late
// with its throttle time, and a refused request is answered by the gateway
// in order, without reaching the broker.
func TestInterceptedFramePath(t *testing.T) {
	clientIDs := make(chan string, 4)
	broker := fakeBroker(t, func(c net.Conn) {
		for {
			var head [4]byte
			if _, err := io.ReadFull(c, head[:]); err != nil {
				return
			}
			frame := make([]byte, binary.BigEndian.Uint32(head[:]))
			if _, err := io.ReadFull(c, frame); err != nil {
				return
			}
			key, version := int16(binary.BigEndian.Uint16(frame)), int16(binary.BigEndian.Uint16(frame[2:]))
			id, _, _ := readClientID(frame[8:])
			clientIDs <- kmsg.NameForKey(key) + ":" + *id
			resp := kmsg.NewPtrMetadataResponse()
			resp.SetVersion(version)
			body := binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(frame[4:]))
			if flexibleResponseHeader(key, version) {
				body = append(body, 0)
			}
			body = resp.AppendTo(body)
			_, _ = c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
		}
	})
	ch := interceptor.NewChain(7, []interceptor.Step{{Name: "policy", Plugin: "test", Interceptor: metadataPolicy{}}}, nil, interceptor.Node{})
	topo := NewTopology()
	topo.SetBrokers([]Broker{{NodeID: 0, Host: "127.0.0.1", Port: int32(broker.(*net.TCPAddr).Port)}})
	start := freePorts(t, 1)
	gw := New(Config{
		BindHost: "127.0.0.1", Routing: Routing{AdvertisedHost: "127.0.0.1", PortStart: start, PortCount: 1},
		MaxFrameBytes: 8 << 20, MaxInFlight: 10, DialTimeout: time.Second, Interceptors: fixedChains{ch},
	}, tcpDialer{}, topo, zap.NewNop())
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Shutdown(t.Context()) })

	raw := dialRaw(t, "127.0.0.1:"+strconv.Itoa(start))
	meta := kmsg.NewPtrMetadataRequest()
	meta.SetVersion(12)
	create := kmsg.NewPtrCreateTopicsRequest()
	create.SetVersion(7)
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic = "t"
	create.Topics = append(create.Topics, ct)

	sent := time.Now()
	raw.send(meta, 1)
	raw.send(create, 2)
	corr, body := raw.receive(meta.Key(), meta.GetVersion())
	elapsed := time.Since(sent)
	mr := kmsg.NewPtrMetadataResponse()
	mr.SetVersion(12)
	if err := mr.ReadFrom(body); err != nil || corr != 1 {
		t.Fatalf("first answer: correlation %d, %v", corr, err)
	}
	if mr.ThrottleMillis != 150 || elapsed < 150*time.Millisecond {
		t.Errorf("throttled answer: throttle %d ms after %v, want 150 ms and at least that long", mr.ThrottleMillis, elapsed)
	}
	corr, body = raw.receive(create.Key(), create.GetVersion())
	cr := kmsg.NewPtrCreateTopicsResponse()
	cr.SetVersion(7)
	if err := cr.ReadFrom(body); err != nil || corr != 2 || len(cr.Topics) != 1 || cr.Topics[0].ErrorCode != kerr.PolicyViolation.Code {
		t.Fatalf("refusal: correlation %d, %+v, %v", corr, cr.Topics, err)
	}
	if got := <-clientIDs; got != "Metadata:renamed-" {
		t.Errorf("the broker saw %s", got)
	}
	select {
	case got := <-clientIDs:
		t.Errorf("a refused request reached the broker: %s", got)
	case <-time.After(100 * time.Millisecond):
	}
}
