package gateway

import (
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func testRewriter() *rewriter {
	return &rewriter{
		routing:  Routing{AdvertisedHost: "gw.example", PortStart: 7000, PortCount: 10, MinBrokerID: 100},
		topology: NewTopology(),
	}
}

// roundTrip encodes resp, runs it through the rewriter and decodes the
// result.
func roundTripRewrite(t *testing.T, w *rewriter, key, version int16, resp kmsg.Response) kmsg.Response {
	t.Helper()
	resp.SetVersion(version)
	out, changed, err := w.rewrite(key, version, resp.AppendTo(nil), nil, nil, passthroughSpace, nil, nil, nil)
	if err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	if !changed {
		return resp
	}
	got := kmsg.ResponseForKey(key)
	got.SetVersion(version)
	if err := got.ReadFrom(out); err != nil {
		t.Fatalf("decode rewritten: %v", err)
	}
	return got
}

func TestRewriteMetadata(t *testing.T) {
	for v := int16(0); v <= info(keyMetadata).maxVersion; v++ {
		w := testRewriter()
		r := kmsg.NewPtrMetadataResponse()
		for _, id := range []int32{100, 101, 109} {
			b := kmsg.NewMetadataResponseBroker()
			b.NodeID, b.Host, b.Port = id, "kafka-internal", 9092
			r.Brokers = append(r.Brokers, b)
		}
		got := roundTripRewrite(t, w, keyMetadata, v, r).(*kmsg.MetadataResponse)
		for _, b := range got.Brokers {
			if b.Host != "gw.example" || b.Port != 7000+b.NodeID-100 {
				t.Errorf("v%d: broker %d advertised as %s:%d", v, b.NodeID, b.Host, b.Port)
			}
		}
		// The topology learned the real addresses on the way.
		if a, ok := w.topology.Address(101); !ok || a != "kafka-internal:9092" {
			t.Errorf("v%d: topology has %q, %v", v, a, ok)
		}
	}
}

func TestRewriteFindCoordinator(t *testing.T) {
	for v := int16(0); v <= info(keyFindCoordinator).maxVersion; v++ {
		r := kmsg.NewPtrFindCoordinatorResponse()
		r.NodeID, r.Host, r.Port = 102, "kafka-internal", 9092
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.NodeID, c.Host, c.Port = "group", 103, "kafka-internal", 9092
		r.Coordinators = append(r.Coordinators, c)
		got := roundTripRewrite(t, testRewriter(), keyFindCoordinator, v, r).(*kmsg.FindCoordinatorResponse)
		if v < 4 && (got.Host != "gw.example" || got.Port != 7002) {
			t.Errorf("v%d: coordinator at %s:%d", v, got.Host, got.Port)
		}
		if v >= 4 && (len(got.Coordinators) != 1 || got.Coordinators[0].Host != "gw.example" || got.Coordinators[0].Port != 7003) {
			t.Errorf("v%d: coordinators %+v", v, got.Coordinators)
		}
	}
}

func TestRewriteBrokerLists(t *testing.T) {
	w := testRewriter()
	dc := kmsg.NewPtrDescribeClusterResponse()
	b := kmsg.NewDescribeClusterResponseBroker()
	b.NodeID, b.Host, b.Port = 104, "kafka-internal", 9092
	dc.Brokers = append(dc.Brokers, b)
	gotDC := roundTripRewrite(t, w, keyDescribeCluster, 1, dc).(*kmsg.DescribeClusterResponse)
	if gotDC.Brokers[0].Host != "gw.example" || gotDC.Brokers[0].Port != 7004 {
		t.Errorf("describe cluster broker at %s:%d", gotDC.Brokers[0].Host, gotDC.Brokers[0].Port)
	}

	pr := kmsg.NewPtrProduceResponse()
	pb := kmsg.NewProduceResponseBroker()
	pb.NodeID, pb.Host, pb.Port = 105, "kafka-internal", 9092
	pr.Brokers = append(pr.Brokers, pb)
	gotPR := roundTripRewrite(t, w, keyProduce, 11, pr).(*kmsg.ProduceResponse)
	if gotPR.Brokers[0].Host != "gw.example" || gotPR.Brokers[0].Port != 7005 {
		t.Errorf("produce node endpoint at %s:%d", gotPR.Brokers[0].Host, gotPR.Brokers[0].Port)
	}

	fr := kmsg.NewPtrFetchResponse()
	fb := kmsg.NewFetchResponseBroker()
	fb.NodeID, fb.Host, fb.Port = 106, "kafka-internal", 9092
	fr.Brokers = append(fr.Brokers, fb)
	gotFR := roundTripRewrite(t, w, keyFetch, 17, fr).(*kmsg.FetchResponse)
	if gotFR.Brokers[0].Host != "gw.example" || gotFR.Brokers[0].Port != 7006 {
		t.Errorf("fetch node endpoint at %s:%d", gotFR.Brokers[0].Host, gotFR.Brokers[0].Port)
	}

	sf := kmsg.NewPtrShareFetchResponse()
	sb := kmsg.NewShareFetchResponseNodeEndpoint()
	sb.NodeID, sb.Host, sb.Port = 107, "kafka-internal", 9092
	sf.NodeEndpoints = append(sf.NodeEndpoints, sb)
	gotSF := roundTripRewrite(t, w, keyShareFetch, 1, sf).(*kmsg.ShareFetchResponse)
	if gotSF.NodeEndpoints[0].Host != "gw.example" || gotSF.NodeEndpoints[0].Port != 7007 {
		t.Errorf("share fetch node endpoint at %s:%d", gotSF.NodeEndpoints[0].Host, gotSF.NodeEndpoints[0].Port)
	}

	dq := kmsg.NewPtrDescribeQuorumResponse()
	n := kmsg.NewDescribeQuorumResponseNode()
	l := kmsg.NewDescribeQuorumResponseNodeListener()
	l.Host, l.Port = "controller-internal", 9093
	n.Listeners = append(n.Listeners, l)
	dq.Nodes = append(dq.Nodes, n)
	gotDQ := roundTripRewrite(t, w, keyDescribeQuorum, 2, dq).(*kmsg.DescribeQuorumResponse)
	if len(gotDQ.Nodes[0].Listeners) != 0 {
		t.Errorf("controller listeners leaked: %+v", gotDQ.Nodes[0].Listeners)
	}
}

func TestProduceWithoutEndpointsUntouched(t *testing.T) {
	w := testRewriter()
	body := produceResponse(11, false)
	_, changed, err := w.rewrite(keyProduce, 11, body, nil, nil, passthroughSpace, nil, nil, nil)
	if err != nil || changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
}

func TestUnroutableBrokerReported(t *testing.T) {
	w := testRewriter()
	var reported []int32
	w.unroutable = func(id int32) { reported = append(reported, id) }
	r := kmsg.NewPtrMetadataResponse()
	for _, id := range []int32{99, 100, 110} { // below, inside, above the range
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = id, "k", 1
		r.Brokers = append(r.Brokers, b)
	}
	roundTripRewrite(t, w, keyMetadata, 12, r)
	if len(reported) != 2 || reported[0] != 99 || reported[1] != 110 {
		t.Fatalf("reported %v, want [99 110]", reported)
	}
}

func TestNarrowVersions(t *testing.T) {
	w := testRewriter()
	w.topology.SetVersions([][]KeyVersions{
		{{Key: keyProduce, Min: 3, Max: 12}, {Key: keyFetch, Min: 4, Max: 17}, {Key: keyMetadata, Min: 0, Max: 13}},
		{{Key: keyProduce, Min: 3, Max: 11}, {Key: keyFetch, Min: 4, Max: 17}}, // no Metadata on this broker
	})
	r := kmsg.NewPtrApiVersionsResponse()
	for _, k := range []struct{ key, lo, hi int16 }{
		{keyProduce, 3, 12},
		{keyFetch, 4, 999}, // newer than kmsg knows
		{keyMetadata, 0, 13},
		{250, 0, 1}, // a key kmsg does not know
	} {
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k.key, k.lo, k.hi
		r.ApiKeys = append(r.ApiKeys, ak)
	}
	got := roundTripRewrite(t, w, keyApiVersions, 3, r).(*kmsg.ApiVersionsResponse)
	// Produce keeps advertising v0 so old librdkafka keeps compressing.
	want := map[int16][2]int16{keyProduce: {0, 11}, keyFetch: {4, 17}}
	if len(got.ApiKeys) != len(want) {
		t.Fatalf("keys %+v, want %v", got.ApiKeys, want)
	}
	for _, k := range got.ApiKeys {
		if w := want[k.ApiKey]; w != [2]int16{k.MinVersion, k.MaxVersion} {
			t.Errorf("key %d: %d..%d, want %d..%d", k.ApiKey, k.MinVersion, k.MaxVersion, w[0], w[1])
		}
	}
}

func TestApiVersionsUnsupportedVersionIsReadAsV0(t *testing.T) {
	w := testRewriter()
	r := kmsg.NewPtrApiVersionsResponse()
	r.SetVersion(0)
	r.ErrorCode = kerr.UnsupportedVersion.Code
	ak := kmsg.NewApiVersionsResponseApiKey()
	ak.ApiKey, ak.MaxVersion = keyApiVersions, 4
	r.ApiKeys = append(r.ApiKeys, ak)
	// The client asked with v4; the broker answered in v0.
	out, changed, err := w.rewrite(keyApiVersions, 4, r.AppendTo(nil), nil, nil, passthroughSpace, nil, nil, nil)
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	got := kmsg.NewPtrApiVersionsResponse()
	got.SetVersion(0)
	if err := got.ReadFrom(out); err != nil || got.ErrorCode != kerr.UnsupportedVersion.Code || len(got.ApiKeys) != 1 {
		t.Fatalf("got %+v, err %v", got, err)
	}
}

func TestSetVersionsIntersection(t *testing.T) {
	topo := NewTopology()
	if _, known := topo.clusterVersions(); known {
		t.Fatal("versions known before any broker answered")
	}
	topo.SetVersions([][]KeyVersions{
		{{Key: 0, Min: 3, Max: 12}, {Key: 1, Min: 4, Max: 17}},
		{{Key: 0, Min: 5, Max: 11}},
	})
	table, _ := topo.clusterVersions()
	if r := table[0]; !r.supported || r.min != 5 || r.max != 11 {
		t.Errorf("produce: %+v", r)
	}
	if r := table[1]; r.supported {
		t.Errorf("fetch supported although one broker lacks it: %+v", r)
	}
}

func TestCandidatesPutMappedBrokerFirst(t *testing.T) {
	topo := NewTopology()
	topo.SetBrokers([]Broker{{NodeID: 3, Host: "c", Port: 1}, {NodeID: 1, Host: "a", Port: 1}, {NodeID: 2, Host: "b", Port: 1}})
	for _, tc := range []struct {
		id   int32
		want string
	}{{2, "b:1 a:1 c:1"}, {9, "a:1 b:1 c:1"}} {
		if got := strings.Join(topo.candidates(tc.id), " "); got != tc.want {
			t.Errorf("candidates(%d) = %s, want %s", tc.id, got, tc.want)
		}
	}
}

// oddEven places odd brokers on another node, and reports the racks it was
// asked about.
type oddEven struct{ racks map[int32]string }

func (p *oddEven) Place(broker int32, rack string) (Routing, bool) {
	p.racks[broker] = rack
	if broker%2 == 0 {
		return Routing{}, false
	}
	return Routing{AdvertisedHost: "other.example", PortStart: 8000, PortCount: 10, MinBrokerID: 100}, true
}

func TestRewriteUsesPlacement(t *testing.T) {
	w := testRewriter()
	p := &oddEven{racks: map[int32]string{}}
	w.placement = p
	r := kmsg.NewPtrMetadataResponse()
	rack := "rack-b"
	for _, id := range []int32{100, 101} {
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = id, "kafka-internal", 9092
		if id == 101 {
			b.Rack = &rack
		}
		r.Brokers = append(r.Brokers, b)
	}
	got := roundTripRewrite(t, w, keyMetadata, 12, r).(*kmsg.MetadataResponse)
	want := map[int32]string{100: "gw.example:7000", 101: "other.example:8001"}
	for _, b := range got.Brokers {
		if a := b.Host + ":" + itoa(b.Port); a != want[b.NodeID] {
			t.Errorf("broker %d advertised at %s, want %s", b.NodeID, a, want[b.NodeID])
		}
	}
	if p.racks[101] != "rack-b" || p.racks[100] != "" {
		t.Errorf("placement asked with racks %v", p.racks)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
