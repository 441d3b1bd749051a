package vcluster

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	topicsTestTenant      = New("team-a", nil)
	topicsTestPassthrough = New(Passthrough, nil)
	topicsTestAliased     = New("team-a", map[string]string{"shared": "legacy-orders"})
)

// topicsTestRequest translates req for s and fails the test on an error.
func topicsTestRequest(t *testing.T, s *Space, req kmsg.Request) *Exchange {
	t.Helper()
	x, err := s.Request(req, nil)
	if err != nil {
		t.Fatalf("%s v%d in %s: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), s.Name(), err)
	}
	return x
}

// topicsTestResponse translates resp for x and fails the test on an error.
func topicsTestResponse(t *testing.T, x *Exchange, resp kmsg.Response) {
	t.Helper()
	if err := x.Response(resp); err != nil {
		t.Fatalf("%s v%d response: %v", kmsg.NameForKey(resp.Key()), resp.GetVersion(), err)
	}
}

// topicsTestEqual fails the test when got and want differ.
func topicsTestEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func topicsTestString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// topicsTestWire encodes req, decodes it again at its version and checks
// that nothing changed on the way: fields the version cannot carry would.
func topicsTestWire(t *testing.T, req kmsg.Request) []byte {
	t.Helper()
	b := req.AppendTo(nil)
	again := kmsg.RequestForKey(req.Key())
	again.SetVersion(req.GetVersion())
	if err := again.ReadFrom(b); err != nil {
		t.Fatalf("%s v%d: decode translated request: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	if !bytes.Equal(again.AppendTo(nil), b) {
		t.Errorf("%s v%d: request changed through the wire", kmsg.NameForKey(req.Key()), req.GetVersion())
	}
	return b
}

// topicsTestKey builds requests and responses of one API key naming the
// given topics; everything else in them is the same whatever the names.
type topicsTestKey struct {
	key  int16
	req  func(v int16, topics []string) kmsg.Request
	resp func(v int16, msg string, topics []string) kmsg.Response
}

var topicsTestKeys = []topicsTestKey{
	{0, topicsTestProduceRequest, topicsTestProduceResponse},
	{1, topicsTestFetchRequest, topicsTestFetchResponse},
	{2, topicsTestListOffsetsRequest, topicsTestListOffsetsResponse},
	{3, topicsTestMetadataRequest, topicsTestMetadataResponse},
	{19, topicsTestCreateTopicsRequest, topicsTestCreateTopicsResponse},
	{20, topicsTestDeleteTopicsRequest, topicsTestDeleteTopicsResponse},
	{21, topicsTestDeleteRecordsRequest, topicsTestDeleteRecordsResponse},
	{23, topicsTestOffsetForLeaderEpochRequest, topicsTestOffsetForLeaderEpochResponse},
	{32, topicsTestDescribeConfigsRequest, topicsTestDescribeConfigsResponse},
	{33, topicsTestAlterConfigsRequest, topicsTestAlterConfigsResponse},
	{37, topicsTestCreatePartitionsRequest, topicsTestCreatePartitionsResponse},
	{44, topicsTestIncrementalAlterConfigsRequest, topicsTestIncrementalAlterConfigsResponse},
	{61, topicsTestDescribeProducersRequest, topicsTestDescribeProducersResponse},
	{75, topicsTestDescribeTopicPartitionsRequest, topicsTestDescribeTopicPartitionsResponse},
}

// TestTopicsNames translates every key at every version a tenant may use:
// the request must name exactly the physical topics and nothing else may
// change, on the wire too; the response must name the logical topics, lose
// every topic outside the space and every physical name in its messages.
func TestTopicsNames(t *testing.T) {
	var (
		logical  = []string{"orders", "shared", "legacy-orders"}
		physical = []string{"team-a.orders", "legacy-orders", "team-a.legacy-orders"}
		// What a broker might answer, others' topics included.
		answer = []string{"team-b.orders", "team-a.orders", "orders", "legacy-orders", "_strait_config", "team-a.", "team-a.legacy-orders", "team-ab.x"}
	)
	for _, k := range topicsTestKeys {
		name := kmsg.NameForKey(k.key)
		if !topicsTestAliased.Translates(k.key) {
			t.Errorf("%s: not translated for tenants", name)
		}
		logical, physical, answer := logical, physical, answer
		if k.key == 20 || k.key == 37 {
			// Deleting and repartitioning refuse aliases (see
			// TestTopicsAliasIsNotDeleted): name no alias, get none back.
			logical, physical = []string{"orders", "legacy-orders"}, []string{"team-a.orders", "team-a.legacy-orders"}
			answer = slices.DeleteFunc(slices.Clone(answer), func(n string) bool { return n == "legacy-orders" })
		}
		for v := int16(0); v <= topicsTestAliased.MaxVersion(k.key); v++ {
			req := k.req(v, logical)
			x := topicsTestRequest(t, topicsTestAliased, req)
			topicsTestEqual(t, fmt.Sprintf("%s v%d request", name, v), req, k.req(v, physical))
			if !bytes.Equal(topicsTestWire(t, req), k.req(v, physical).AppendTo(nil)) {
				t.Errorf("%s v%d: translated request encodes differently from one naming the physical topics", name, v)
			}
			if x.Local != nil {
				t.Errorf("%s v%d: answered locally", name, v)
			}

			resp := k.resp(v, "team-a.orders is not ready", answer)
			topicsTestResponse(t, x, resp)
			topicsTestEqual(t, fmt.Sprintf("%s v%d response", name, v), resp, k.resp(v, "orders is not ready", logical))
		}
	}
}

// TestTopicsAliasIsNotDeleted checks that a tenant cannot delete or
// repartition the topic behind an alias, which lies outside its prefix.
func TestTopicsAliasIsNotDeleted(t *testing.T) {
	del := topicsTestDeleteTopicsRequest(5, []string{"shared"})
	x := topicsTestRequest(t, topicsTestAliased, del)
	local, ok := x.Local.(*kmsg.DeleteTopicsResponse)
	if !ok || len(local.Topics) != 1 || local.Topics[0].ErrorCode != kerr.TopicAuthorizationFailed.Code || *local.Topics[0].Topic != "shared" {
		t.Fatalf("deleting an alias answered %+v", x.Local)
	}
	grow := topicsTestCreatePartitionsRequest(3, []string{"shared"})
	x = topicsTestRequest(t, topicsTestAliased, grow)
	if cp, ok := x.Local.(*kmsg.CreatePartitionsResponse); !ok || cp.Topics[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("repartitioning an alias answered %+v", x.Local)
	}
}

// TestScrubLeavesWordsAlone checks that only names lose the prefix.
func TestScrubLeavesWordsAlone(t *testing.T) {
	s := New("red", nil)
	msg := "Topic red.orders was not delivered. [red.x, 'red.y']"
	s.Scrub(&msg)
	if want := "Topic orders was not delivered. [x, 'y']"; msg != want {
		t.Fatalf("scrubbed %q, want %q", msg, want)
	}
}

// TestAliasShadowsPrefixedTopic checks that a tenant's own topic with an
// alias's name is not listed a second time.
func TestAliasShadowsPrefixedTopic(t *testing.T) {
	s := New("team-a", map[string]string{"orders": "legacy"})
	if _, ok := s.LogicalTopic("team-a.orders"); ok {
		t.Fatal("team-a.orders listed although orders names the alias")
	}
	if l, ok := s.LogicalTopic("legacy"); !ok || l != "orders" {
		t.Fatalf("alias target maps to %q %v", l, ok)
	}
}

// TestTopicsUnrelatedTopics checks that a topic the request did not name
// still comes back under its name in the space (a fetch session's, say).
func TestTopicsUnrelatedTopics(t *testing.T) {
	for _, k := range topicsTestKeys {
		v := topicsTestTenant.MaxVersion(k.key)
		x := topicsTestRequest(t, topicsTestTenant, k.req(v, []string{"a"}))
		resp := k.resp(v, "", []string{"team-a.b", "team-b.b"})
		topicsTestResponse(t, x, resp)
		topicsTestEqual(t, kmsg.NameForKey(k.key)+" response", resp, k.resp(v, "", []string{"b"}))
	}
}

func TestTopicsVersionCaps(t *testing.T) {
	caps := map[int16]int16{0: 12, 1: 12, 2: 11, 3: 13, 19: 7, 20: 5, 21: 2, 23: 4, 32: 4, 33: 2, 37: 3, 44: 1, 61: 0, 75: 0}
	for key, limit := range caps {
		name := kmsg.NameForKey(key)
		if got := topicsTestTenant.MaxVersion(key); got != limit {
			t.Errorf("%s: tenant max version %d, want %d", name, got, limit)
		}
		if got := topicsTestPassthrough.MaxVersion(key); got != math.MaxInt16 {
			t.Errorf("%s: passthrough max version %d, want no limit", name, got)
		}
		req := kmsg.RequestForKey(key)
		req.SetVersion(limit)
		if _, err := topicsTestTenant.Request(req, nil); err != nil {
			t.Errorf("%s v%d: %v", name, limit, err)
		}
		if limit == req.MaxVersion() {
			continue
		}
		req.SetVersion(limit + 1)
		if _, err := topicsTestTenant.Request(req, nil); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s v%d: got %v, want ErrUnavailable", name, limit+1, err)
		}
		if _, err := topicsTestPassthrough.Request(req, nil); err != nil {
			t.Errorf("%s v%d in passthrough: %v", name, limit+1, err)
		}
	}
	for _, k := range topicsTestKeys {
		if _, ok := caps[k.key]; !ok {
			t.Errorf("%s: no version cap checked", kmsg.NameForKey(k.key))
		}
	}
}

func TestTopicsFilterClearsDropped(t *testing.T) {
	s := []string{"keep", "drop", "keep", "drop"}
	kept := retain(s, func(n *string) bool { return *n == "keep" })
	topicsTestEqual(t, "kept", kept, []string{"keep", "keep"})
	topicsTestEqual(t, "backing array", s, []string{"keep", "keep", "", ""})
}

// topicsTestCheckLocal checks that x answers locally with a response of
// req's key and version that survives the wire, and returns it.
func topicsTestCheckLocal(t *testing.T, x *Exchange, req kmsg.Request) kmsg.Response {
	t.Helper()
	if x.Local == nil {
		t.Fatalf("%s: forwarded, want a local answer", kmsg.NameForKey(req.Key()))
	}
	if x.Local.Key() != req.Key() || x.Local.GetVersion() != req.GetVersion() {
		t.Fatalf("local answer is %s v%d, want %s v%d", kmsg.NameForKey(x.Local.Key()), x.Local.GetVersion(), kmsg.NameForKey(req.Key()), req.GetVersion())
	}
	again := kmsg.ResponseForKey(req.Key())
	again.SetVersion(req.GetVersion())
	if err := again.ReadFrom(x.Local.AppendTo(nil)); err != nil {
		t.Fatalf("decode local answer: %v", err)
	}
	return x.Local
}
