package gateway

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/auth"
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

// TestTopicIDsNamedPerVirtualCluster checks that the shared topology keeps
// physical names however tenants ask for Metadata, and that interceptors
// of a tenant's connection see its logical names only.
func TestTopicIDsNamedPerVirtualCluster(t *testing.T) {
	tg := startSASLGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := tg.client(t, plainLogin("team-a/alice", "secret"), kgo.DefaultProduceTopic("orders"), kgo.AllowAutoTopicCreation())
	b := tg.client(t, plainLogin("team-b/bob", "secret"), kgo.DefaultProduceTopic("orders"), kgo.AllowAutoTopicCreation())
	for _, cl := range []*kgo.Client{a, b} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	topics, err := kadm.NewClient(tg.client(t, plainLogin("ops", "secret"))).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idA, idB := topics["team-a.orders"].ID, topics["team-b.orders"].ID
	// Tenant a asks for Metadata last: its logical answer must not
	// rename the ids in the shared topology.
	if _, err := kadm.NewClient(a).ListTopics(ctx); err != nil {
		t.Fatal(err)
	}
	if name, _ := tg.gw.topology.TopicName(idA); name != "team-a.orders" {
		t.Fatalf("topology names %x %q, want the physical name", idA, name)
	}
	alice := &conn{gw: tg.gw, principal: auth.Principal{VCluster: "team-a", Username: "alice"}, authenticated: true}
	for _, tc := range []struct {
		id   [16]byte
		name string
		ok   bool
	}{{idA, "orders", true}, {idB, "", false}, {[16]byte{9}, "", false}} {
		if name, ok := (logicalTopics{alice}).TopicName(tc.id); name != tc.name || ok != tc.ok {
			t.Errorf("team-a sees %x as %q %v, want %q %v", tc.id, name, ok, tc.name, tc.ok)
		}
	}
}
