package gateway

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

func TestClientsSeeOnlyGatewayAddresses(t *testing.T) {
	tg := startTestGateway(t, 3)
	adm := kadm.NewClient(tg.client(t))
	md, err := adm.BrokerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Brokers) != 3 {
		t.Fatalf("%d brokers, want 3", len(md.Brokers))
	}
	for _, b := range md.Brokers {
		if b.Host != "127.0.0.1" || int(b.Port) != tg.routing.PortStart+int(b.NodeID) {
			t.Errorf("broker %d advertised at %s:%d", b.NodeID, b.Host, b.Port)
		}
	}
	// FindCoordinator, in the batched (v4+) form franz-go uses.
	if _, err := adm.ListGroups(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw := dialRaw(t, tg.addr())
	for _, v := range []int16{3, 4} {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.SetVersion(v)
		req.CoordinatorKey = "g"
		req.CoordinatorKeys = []string{"g"}
		resp := raw.roundTrip(req, int32(v)).(*kmsg.FindCoordinatorResponse)
		host, port := resp.Host, resp.Port
		if v >= 4 {
			host, port = resp.Coordinators[0].Host, resp.Coordinators[0].Port
		}
		if host != "127.0.0.1" || port < int32(tg.routing.PortStart) || port >= int32(tg.routing.PortStart+3) {
			t.Errorf("FindCoordinator v%d answered %s:%d", v, host, port)
		}
	}
	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.SetVersion(1)
	for _, b := range raw.roundTrip(dc, 9).(*kmsg.DescribeClusterResponse).Brokers {
		if b.Host != "127.0.0.1" || int(b.Port) != tg.routing.PortStart+int(b.NodeID) {
			t.Errorf("DescribeCluster broker %d at %s:%d", b.NodeID, b.Host, b.Port)
		}
	}
}

func TestProduceConsumeExactlyOnceInOrder(t *testing.T) {
	tg := startTestGateway(t, 3)
	const topic, n = "orders", 3000
	createTopic(t, tg, topic, 6)
	for _, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		prod := tg.client(t, kgo.ProducerBatchCompression(codec), kgo.RequiredAcks(kgo.AllISRAcks()))
		produceN(t, prod, topic, n/5, fmt.Sprint(codec))
	}
	cons := tg.client(t, kgo.ConsumeTopics(topic), kgo.ConsumerGroup("g1"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkConsumed(t, cons, n)
}

// produceN produces n records keyed key-(i mod 8) with values prefix-i and
// fails the test on any error.
func produceN(t *testing.T, cl *kgo.Client, topic string, n int, prefix string) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		wg.Add(1)
		r := &kgo.Record{Topic: topic, Key: []byte("key-" + strconv.Itoa(i%8)), Value: []byte(prefix + "-" + strconv.Itoa(i))}
		cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

// checkConsumed reads n records and checks each value arrives once and the
// values of each key arrive in production order.
func checkConsumed(t *testing.T, cl *kgo.Client, n int) {
	t.Helper()
	seen := make(map[string]bool)
	last := make(map[string]int)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", len(seen), n)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		fs.EachRecord(func(r *kgo.Record) {
			v := string(r.Value)
			if seen[v] {
				t.Fatalf("record %s delivered twice", v)
			}
			seen[v] = true
			var prefix string
			var seq int
			if _, err := fmt.Sscanf(v[lastDash(v)+1:], "%d", &seq); err != nil {
				t.Fatalf("bad value %q", v)
			}
			prefix = v[:lastDash(v)]
			k := prefix + "/" + string(r.Key)
			if prev, ok := last[k]; ok && prev >= seq {
				t.Fatalf("key %s: %d after %d", k, seq, prev)
			}
			last[k] = seq
		})
	}
}

func lastDash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '-' {
			return i
		}
	}
	return -1
}

func TestAcksZeroProduceHasNoResponse(t *testing.T) {
	tg := startTestGateway(t, 1)
	createTopic(t, tg, "fire", 1)
	prod := tg.client(t, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic("fire"))
	for i := range 500 {
		prod.Produce(context.Background(), &kgo.Record{Value: []byte("fire-" + strconv.Itoa(i)), Key: []byte("k")}, nil)
	}
	if err := prod.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The same connection keeps answering requests that do have responses,
	// which it could not if the gateway waited for acks=0 responses.
	adm := kadm.NewClient(prod)
	if _, err := adm.ListTopics(context.Background()); err != nil {
		t.Fatal(err)
	}
	cons := tg.client(t, kgo.ConsumeTopics("fire"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkConsumed(t, cons, 500)
}

func TestPipelinedResponsesInOrder(t *testing.T) {
	tg := startTestGateway(t, 1)
	raw := dialRaw(t, tg.addr())
	// Mix keys the gateway rewrites with keys it forwards untouched.
	const n = 60
	for i := range n {
		var req kmsg.Request
		switch i % 3 {
		case 0:
			r := kmsg.NewPtrMetadataRequest()
			r.SetVersion(12)
			req = r
		case 1:
			r := kmsg.NewPtrApiVersionsRequest()
			r.SetVersion(3)
			r.ClientSoftwareName, r.ClientSoftwareVersion = "raw", "1"
			req = r
		case 2:
			r := kmsg.NewPtrListGroupsRequest()
			r.SetVersion(4)
			req = r
		}
		raw.send(req, int32(1000+i))
	}
	keys := []int16{keyMetadata, keyApiVersions, 16}
	versions := []int16{12, 3, 4}
	for i := range n {
		corr, _ := raw.receive(keys[i%3], versions[i%3])
		if corr != int32(1000+i) {
			t.Fatalf("response %d has correlation id %d", i, corr)
		}
	}
}

func TestApiVersionsNewerThanGatewayAnsweredLocally(t *testing.T) {
	tg := startTestGateway(t, 1)
	raw := dialRaw(t, tg.addr())
	// A metadata request in flight first: the local answer must wait for it.
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12)
	raw.send(md, 1)
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(info(keyApiVersions).maxVersion + 1)
	frame := encodeRequest(av, 2, "future-client")
	if _, err := raw.conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	if corr, _ := raw.receive(keyMetadata, 12); corr != 1 {
		t.Fatalf("first response has correlation id %d", corr)
	}
	corr, body := raw.receive(keyApiVersions, 0)
	if corr != 2 {
		t.Fatalf("second response has correlation id %d", corr)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) != 1 || resp.ApiKeys[0].MaxVersion != info(keyApiVersions).maxVersion {
		t.Fatalf("answer %+v", resp)
	}
}

func TestApiVersionsIntersectOldBroker(t *testing.T) {
	tg := startTestGateway(t, 1, kfake.MaxVersions(kversion.V3_5_0()))
	raw := dialRaw(t, tg.addr())
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1"
	resp := raw.roundTrip(req, 1).(*kmsg.ApiVersionsResponse)
	old := kversion.V3_5_0()
	if len(resp.ApiKeys) == 0 {
		t.Fatal("no api keys advertised")
	}
	for _, k := range resp.ApiKeys {
		brokerMax, ok := old.LookupMaxKeyVersion(k.ApiKey)
		if !ok || k.MaxVersion > brokerMax || k.MaxVersion > info(k.ApiKey).maxVersion {
			t.Errorf("key %d advertised up to v%d (3.5 broker: v%d, ok=%v)", k.ApiKey, k.MaxVersion, brokerMax, ok)
		}
	}
}

func TestMalformedFramesCloseOnlyTheirConnection(t *testing.T) {
	tg := startTestGateway(t, 1)
	createTopic(t, tg, "steady", 1)
	good := tg.client(t)
	produceN(t, good, "steady", 10, "before")

	oversized := make([]byte, requestPeekLen)
	binary.BigEndian.PutUint32(oversized, 1<<30)
	tooSmall := make([]byte, requestPeekLen)
	binary.BigEndian.PutUint32(tooSmall, 3)
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12)
	truncated := encodeRequest(md, 1, "x")
	truncated = truncated[:len(truncated)-2]
	tlsHello := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0, 0, 0}
	for name, frame := range map[string][]byte{
		"oversized": oversized, "too small": tooSmall, "tls on plaintext": tlsHello,
	} {
		raw := dialRaw(t, tg.addr())
		if _, err := raw.conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		if !raw.closedByPeer() {
			t.Errorf("%s: connection left open", name)
		}
	}
	// A truncated frame followed by the client going away.
	raw := dialRaw(t, tg.addr())
	_, _ = raw.conn.Write(truncated)
	_ = raw.conn.Close()

	produceN(t, good, "steady", 10, "after")
	cons := tg.client(t, kgo.ConsumeTopics("steady"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkConsumed(t, cons, 20)
}

func TestLeaderMovesUnderLoad(t *testing.T) {
	tg := startTestGateway(t, 3)
	const topic = "moving"
	createTopic(t, tg, topic, 3)
	prod := tg.client(t, kgo.RequiredAcks(kgo.AllISRAcks()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 6 {
			time.Sleep(30 * time.Millisecond)
			for p := int32(0); p < 3; p++ {
				_ = tg.cluster.MoveTopicPartition(topic, p, int32((i+int(p))%3))
			}
		}
	}()
	produceN(t, prod, topic, 3000, "move")
	<-done
	cons := tg.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkConsumed(t, cons, 3000)
}

func TestDrainFinishesInFlightRequests(t *testing.T) {
	tg := startTestGateway(t, 1)
	raw := dialRaw(t, tg.addr())
	// Hold the broker's answer to one request until the drain has begun.
	release := make(chan struct{})
	tg.cluster.ControlKey(int16(keyMetadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		tg.cluster.KeepControl()
		<-release
		return nil, nil, false
	})
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12)
	raw.send(md, 42)
	time.Sleep(100 * time.Millisecond)

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdown <- tg.gw.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := dialRawErr(tg.addr()); err == nil {
		t.Error("new connection accepted while draining")
	}
	close(release)
	if corr, _ := raw.receive(keyMetadata, 12); corr != 42 {
		t.Fatalf("correlation id %d", corr)
	}
	if err := <-shutdown; err != nil {
		t.Fatal(err)
	}
}

func createTopic(t *testing.T, tg *testGateway, topic string, partitions int32) {
	t.Helper()
	adm := kadm.NewClient(tg.client(t))
	resp, err := adm.CreateTopic(context.Background(), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrokersJoinAndLeave adds a broker to the backing cluster and later
// removes one; clients through the gateway must see the new broker at its
// gateway port, reach it, and keep producing after the removal.
func TestBrokersJoinAndLeave(t *testing.T) {
	tg := startTestGateway(t, 2)
	createTopic(t, tg, "elastic", 6)
	prod := tg.client(t)
	produceN(t, prod, "elastic", 300, "before")

	id, _, err := tg.cluster.AddNode(-1, 0)
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(tg.client(t))
	deadline := time.Now().Add(10 * time.Second)
	for {
		md, err := adm.BrokerMetadata(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var b kadm.BrokerDetail
		found := false
		for _, d := range md.Brokers {
			if d.NodeID == id {
				b, found = d, true
			}
		}
		if found {
			if b.Host != "127.0.0.1" || int(b.Port) != tg.routing.PortStart+int(id) {
				t.Fatalf("new broker %d advertised at %s:%d", id, b.Host, b.Port)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker %d never appeared", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Partitions were reshuffled onto the new broker: producing reaches it
	// through its gateway port.
	produceN(t, prod, "elastic", 300, "joined")
	if err := tg.cluster.RemoveNode(0); err != nil {
		t.Fatal(err)
	}
	produceN(t, prod, "elastic", 300, "left")
	cons := tg.client(t, kgo.ConsumeTopics("elastic"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkConsumed(t, cons, 900)
}
