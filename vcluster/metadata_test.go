package vcluster

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func topicsTestMetadataRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrMetadataRequest()
	r.Version, r.AllowAutoTopicCreation, r.IncludeTopicAuthorizedOperations = v, true, true
	for _, name := range topics {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(name)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestMetadataResponse(v int16, _ string, topics []string) kmsg.Response {
	r := kmsg.NewPtrMetadataResponse()
	r.Version, r.ThrottleMillis, r.ClusterID, r.ControllerID = v, 4, kmsg.StringPtr("cluster-1"), 2
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port, b.Rack = 2, "broker-2", 9092, kmsg.StringPtr("rack-1")
	r.Brokers = append(r.Brokers, b)
	for _, name := range topics {
		t := kmsg.NewMetadataResponseTopic()
		t.Topic, t.TopicID, t.AuthorizedOperations = kmsg.StringPtr(name), [16]byte{1}, 8
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition, p.Leader, p.LeaderEpoch, p.Replicas, p.ISR = 0, 2, 5, []int32{2}, []int32{2}
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDescribeTopicPartitionsRequest(v int16, topics []string) kmsg.Request {
	r := kmsg.NewPtrDescribeTopicPartitionsRequest()
	r.Version, r.ResponsePartitionLimit = v, 100
	for _, name := range topics {
		t := kmsg.NewDescribeTopicPartitionsRequestTopic()
		t.Topic = name
		r.Topics = append(r.Topics, t)
	}
	return r
}

func topicsTestDescribeTopicPartitionsResponse(v int16, _ string, topics []string) kmsg.Response {
	r := kmsg.NewPtrDescribeTopicPartitionsResponse()
	r.Version, r.ThrottleMillis = v, 4
	for _, name := range topics {
		t := kmsg.NewDescribeTopicPartitionsResponseTopic()
		t.Topic, t.TopicID, t.AuthorizedOperations = kmsg.StringPtr(name), [16]byte{1}, 8
		p := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
		p.Partition, p.LeaderID, p.LeaderEpoch, p.Replicas, p.ISR = 0, 2, 5, []int32{2}, []int32{2}
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	return r
}

// topicsTestNames returns the names of a Metadata response's topics.
func topicsTestNames(r *kmsg.MetadataResponse) []string {
	var names []string
	for _, t := range r.Topics {
		names = append(names, topicsTestString(t.Topic))
	}
	return names
}

var topicsTestClusterTopics = []string{"__consumer_offsets", "_strait_config", "orders", "team-a.orders", "team-a.x", "team-b.orders", "legacy-orders"}

func TestMetadataListing(t *testing.T) {
	for _, tc := range []struct {
		space   *Space
		version int16
		want    []string
	}{
		{topicsTestTenant, 13, []string{"orders", "x"}},
		{topicsTestTenant, 0, []string{"orders", "x"}},
		{topicsTestAliased, 12, []string{"orders", "x", "shared"}},
		{topicsTestPassthrough, 13, []string{"__consumer_offsets", "orders", "team-a.orders", "team-a.x", "team-b.orders", "legacy-orders"}},
		{topicsTestPassthrough, 0, []string{"__consumer_offsets", "orders", "team-a.orders", "team-a.x", "team-b.orders", "legacy-orders"}},
	} {
		req := topicsTestMetadataRequest(tc.version, nil).(*kmsg.MetadataRequest)
		if tc.version == 0 {
			req.Topics = []kmsg.MetadataRequestTopic{} // every topic in v0
		}
		x := topicsTestRequest(t, tc.space, req)
		if tc.version > 0 && req.Topics != nil || tc.version == 0 && len(req.Topics) != 0 {
			t.Errorf("%s v%d: all topics became %+v", tc.space.Name(), tc.version, req.Topics)
		}
		resp := topicsTestMetadataResponse(tc.version, "", topicsTestClusterTopics).(*kmsg.MetadataResponse)
		topicsTestResponse(t, x, resp)
		topicsTestEqual(t, tc.space.Name()+" listing", topicsTestNames(resp), tc.want)
		topicsTestEqual(t, tc.space.Name()+" brokers", resp.Brokers, topicsTestMetadataResponse(tc.version, "", nil).(*kmsg.MetadataResponse).Brokers)
	}
}

// TestMetadataForeignTopic checks that another tenant's topic looks
// exactly like a missing one: the broker's answer for the physical name the
// asking tenant's would have.
func TestMetadataForeignTopic(t *testing.T) {
	req := topicsTestMetadataRequest(12, []string{"x"})
	x := topicsTestRequest(t, New("team-b", nil), req)
	topicsTestEqual(t, "forwarded", req, topicsTestMetadataRequest(12, []string{"team-b.x"}))
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = 12
	missing := kmsg.NewMetadataResponseTopic()
	missing.Topic, missing.ErrorCode = kmsg.StringPtr("team-b.x"), kerr.UnknownTopicOrPartition.Code
	resp.Topics = append(resp.Topics, missing)
	topicsTestResponse(t, x, resp)
	missing.Topic = kmsg.StringPtr("x")
	topicsTestEqual(t, "response", resp.Topics, []kmsg.MetadataResponseTopic{missing})
}

func TestMetadataTopicIDs(t *testing.T) {
	byID := func(id byte) kmsg.MetadataRequestTopic {
		t := kmsg.NewMetadataRequestTopic()
		t.TopicID = [16]byte{id}
		return t
	}
	unknown := func(id byte) kmsg.MetadataResponseTopic {
		t := kmsg.NewMetadataResponseTopic()
		t.TopicID, t.ErrorCode = [16]byte{id}, kerr.UnknownTopicID.Code
		return t
	}

	req := topicsTestMetadataRequest(12, []string{"orders"}).(*kmsg.MetadataRequest)
	req.Topics = append([]kmsg.MetadataRequestTopic{byID(1)}, append(req.Topics, byID(2))...)
	x := topicsTestRequest(t, topicsTestTenant, req)
	topicsTestEqual(t, "forwarded", req, topicsTestMetadataRequest(12, []string{"team-a.orders"}))
	resp := topicsTestMetadataResponse(12, "", []string{"team-a.orders"}).(*kmsg.MetadataResponse)
	topicsTestResponse(t, x, resp)
	want := topicsTestMetadataResponse(12, "", []string{"orders"}).(*kmsg.MetadataResponse)
	want.Topics = append(want.Topics, unknown(1), unknown(2))
	topicsTestEqual(t, "response", resp, want)

	// Nothing but ids: the broker is still asked, for no topic, so that
	// the client learns the brokers.
	req = topicsTestMetadataRequest(10, nil).(*kmsg.MetadataRequest)
	req.Topics = []kmsg.MetadataRequestTopic{byID(3)}
	x = topicsTestRequest(t, topicsTestTenant, req)
	if x.Local != nil || req.Topics == nil || len(req.Topics) != 0 {
		t.Fatalf("ids only: local %v, forwarded topics %+v; want an empty, non-null list", x.Local, req.Topics)
	}
	again := kmsg.NewPtrMetadataRequest()
	again.Version = 10
	if err := again.ReadFrom(topicsTestWire(t, req)); err != nil || again.Topics == nil {
		t.Errorf("ids only: the wire asks for every topic (%v)", err)
	}
	resp = topicsTestMetadataResponse(10, "", nil).(*kmsg.MetadataResponse)
	topicsTestResponse(t, x, resp)
	want = topicsTestMetadataResponse(10, "", nil).(*kmsg.MetadataResponse)
	want.Topics = append(want.Topics, unknown(3))
	topicsTestEqual(t, "ids only response", resp, want)

	// The passthrough space resolves ids, and shows what it names.
	req = topicsTestMetadataRequest(12, []string{"_strait_config"}).(*kmsg.MetadataRequest)
	req.Topics = append(req.Topics, byID(4))
	x = topicsTestRequest(t, topicsTestPassthrough, req)
	if len(req.Topics) != 2 {
		t.Errorf("passthrough forwarded %+v", req.Topics)
	}
	resp = topicsTestMetadataResponse(12, "", []string{"_strait_config", "_strait_offsets"}).(*kmsg.MetadataResponse)
	topicsTestResponse(t, x, resp)
	topicsTestEqual(t, "passthrough named", topicsTestNames(resp), []string{"_strait_config", "_strait_offsets"})
}

func TestDescribeTopicPartitionsListing(t *testing.T) {
	cursor := func(topic string, partition int32) *kmsg.DescribeTopicPartitionsResponseNextCursor {
		c := kmsg.NewDescribeTopicPartitionsResponseNextCursor()
		c.Topic, c.Partition = topic, partition
		return &c
	}
	for _, tc := range []struct {
		what       string
		space      *Space
		topics     []string
		cursor     string // of the request, "" for none
		wantCursor string // forwarded
		answer     []string
		next       *kmsg.DescribeTopicPartitionsResponseNextCursor
		want       []string
		wantNext   *kmsg.DescribeTopicPartitionsResponseNextCursor
	}{{
		what: "tenant's first page", space: topicsTestTenant, wantCursor: "team-a.",
		answer: []string{"team-a.a", "team-a.b"}, next: cursor("team-a.c", 2),
		want: []string{"a", "b"}, wantNext: cursor("c", 2),
	}, {
		what: "tenant's last page", space: topicsTestTenant, cursor: "c", wantCursor: "team-a.c",
		answer: []string{"team-a.c", "team-b.a"}, next: cursor("team-b.b", 0),
		want: []string{"c"},
	}, {
		what: "tenant's named topics", space: topicsTestAliased, topics: []string{"a", "shared"}, cursor: "shared", wantCursor: "legacy-orders",
		answer: []string{"legacy-orders", "team-a.a"}, next: cursor("team-a.a", 1),
		want: []string{"shared", "a"}, wantNext: cursor("a", 1),
	}, {
		what: "passthrough listing", space: topicsTestPassthrough,
		answer: []string{"__consumer_offsets", "_strait_config"}, next: cursor("_strait_offsets", 3),
		want: []string{"__consumer_offsets"}, wantNext: cursor(tPastInternal, 0),
	}, {
		what: "passthrough named", space: topicsTestPassthrough, topics: []string{"_strait_config", "_strait_offsets"}, cursor: "_strait_config", wantCursor: "_strait_config",
		answer: []string{"_strait_config"}, next: cursor("_strait_offsets", 0),
		want: []string{"_strait_config"}, wantNext: cursor("_strait_offsets", 0),
	}} {
		req := topicsTestDescribeTopicPartitionsRequest(0, tc.topics).(*kmsg.DescribeTopicPartitionsRequest)
		if tc.cursor != "" {
			c := kmsg.NewDescribeTopicPartitionsRequestCursor()
			c.Topic, c.Partition = tc.cursor, 1
			req.Cursor = &c
		}
		x := topicsTestRequest(t, tc.space, req)
		if got := req.Cursor; tc.wantCursor == "" && got != nil || tc.wantCursor != "" && (got == nil || got.Topic != tc.wantCursor) {
			t.Errorf("%s: forwarded cursor %+v, want %q", tc.what, got, tc.wantCursor)
		}
		topicsTestWire(t, req)
		resp := topicsTestDescribeTopicPartitionsResponse(0, "", tc.answer).(*kmsg.DescribeTopicPartitionsResponse)
		resp.NextCursor = tc.next
		topicsTestResponse(t, x, resp)
		want := topicsTestDescribeTopicPartitionsResponse(0, "", tc.want).(*kmsg.DescribeTopicPartitionsResponse)
		want.NextCursor = tc.wantNext
		topicsTestEqual(t, tc.what, resp, want)
	}
}

// TestTopicsPastInternal checks that the cursor skipping internal topics
// sorts after all of them and before every other name after them.
func TestTopicsPastInternal(t *testing.T) {
	for _, name := range []string{InternalPrefix, InternalPrefix + "zzz", InternalPrefix + "~"} {
		if name >= tPastInternal {
			t.Errorf("%q sorts after %q", name, tPastInternal)
		}
	}
	for _, name := range []string{"_straita", "_straitz", "a", "_su"} {
		if name <= tPastInternal {
			t.Errorf("%q sorts before %q", name, tPastInternal)
		}
	}
	if !strings.HasPrefix(tPastInternal, InternalPrefix[:len(InternalPrefix)-1]) {
		t.Errorf("%q does not follow %q", tPastInternal, InternalPrefix)
	}
}

// FuzzTopicsResponse decodes arbitrary Metadata and Fetch responses and
// translates them: translation must not panic, and every topic name left
// must be the logical name of a topic of the space the broker answered
// with, while no such topic may be lost.
func FuzzTopicsResponse(f *testing.F) {
	for _, v := range []int16{0, 1, 9, 10, 12, 13} {
		f.Add(false, uint8(0), v, topicsTestMetadataResponse(v, "", topicsTestClusterTopics).AppendTo(nil))
		f.Add(false, uint8(2), v, topicsTestMetadataResponse(v, "", topicsTestClusterTopics).AppendTo(nil))
		f.Add(true, uint8(1), v, topicsTestFetchResponse(v, "", topicsTestClusterTopics).AppendTo(nil))
	}
	spaces := []*Space{topicsTestTenant, topicsTestAliased, topicsTestPassthrough}
	f.Fuzz(func(t *testing.T, fetch bool, space uint8, version int16, body []byte) {
		s := spaces[int(space)%len(spaces)]
		var req kmsg.Request = kmsg.NewPtrMetadataRequest()
		if fetch {
			if s.IsPassthrough() {
				return // not translated
			}
			req = topicsTestFetchRequest(0, []string{"orders", "shared"})
		}
		limit := min(s.MaxVersion(req.Key()), req.MaxVersion())
		version = (version & 0x7fff) % (limit + 1)
		req.SetVersion(version)
		resp := req.ResponseKind()
		if resp.ReadFrom(body) != nil {
			return
		}
		before := map[string]int{}
		for _, name := range topicsTestFuzzNames(resp) {
			if name != nil {
				before[*name]++
			}
		}
		x, err := s.Request(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Response(resp); err != nil {
			t.Fatal(err)
		}
		resp.AppendTo(nil)
		after := map[string]int{}
		for _, name := range topicsTestFuzzNames(resp) {
			if name == nil {
				if !s.IsPassthrough() {
					t.Fatalf("%s: unnamed topic left", s.Name())
				}
				continue
			}
			physical := s.Topic(*name)
			if l, ok := s.LogicalTopic(physical); !ok || l != *name || before[physical] == 0 {
				t.Fatalf("%s: topic %q left, not the logical name of a topic of the answer", s.Name(), *name)
			}
			after[physical]++
		}
		for physical, n := range before {
			if _, ok := s.LogicalTopic(physical); ok && after[physical] != n {
				t.Fatalf("%s: topic %q of the space lost", s.Name(), physical)
			}
		}
	})
}

// topicsTestFuzzNames returns pointers to the topic names of a Metadata or
// Fetch response.
func topicsTestFuzzNames(resp kmsg.Response) []*string {
	var names []*string
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		for i := range r.Topics {
			names = append(names, r.Topics[i].Topic)
		}
	case *kmsg.FetchResponse:
		for i := range r.Topics {
			names = append(names, &r.Topics[i].Topic)
		}
	}
	return names
}
