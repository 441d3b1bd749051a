package vcluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupsTestCase is a request translated in the space of "team-a" and,
// optionally, its response translated through the same exchange. Building
// each side from one function that takes only what changes makes the
// comparison check every field: those that must change and those that must
// not.
type groupsTestCase struct {
	name      string
	req       kmsg.Request
	wantReq   kmsg.Request
	wantLocal kmsg.Response
	resp      kmsg.Response
	wantResp  kmsg.Response
}

// groupsTestTables lists every table, each built fresh because translation
// works in place.
var groupsTestTables = []func() []groupsTestCase{
	groupsTestCoordinatorCases,
	groupsTestMemberCases,
	groupsTestAdminCases,
	groupsTestOffsetCases,
	groupsTestConsumerCases,
	groupsTestTxnCases,
	groupsTestTxnAdminCases,
}

// groupsTestCaps is the newest version tenants may use of each key the
// group and transaction rules cover.
var groupsTestCaps = map[int16]int16{
	8: 9, 9: 9, 10: 6, 11: 9, 12: 4, 13: 5, 14: 5, 15: 6, 16: 5, 42: 3, 47: 0, 68: 1, 69: 1,
	22: 5, 24: 5, 25: 4, 26: 5, 28: 5, 65: 0, 66: 2,
}

func groupsTestRun(t *testing.T, cases []groupsTestCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := New("team-a", nil).Request(c.req, nil)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			groupsTestSame(t, "request", c.req, c.wantReq)
			groupsTestSame(t, "local answer", x.Local, c.wantLocal)
			groupsTestRoundTrip(t, c.req)
			if c.resp == nil {
				return
			}
			if err := x.Response(c.resp); err != nil {
				t.Fatalf("Response: %v", err)
			}
			groupsTestSame(t, "response", c.resp, c.wantResp)
		})
	}
}

func groupsTestSame(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// groupsTestRoundTrip checks that a translated request still encodes to
// something its version decodes, and re-encodes, identically.
func groupsTestRoundTrip(t *testing.T, req kmsg.Request) {
	t.Helper()
	wire := req.AppendTo(nil)
	back := kmsg.RequestForKey(req.Key())
	back.SetVersion(req.GetVersion())
	if err := back.ReadFrom(wire); err != nil {
		t.Fatalf("decoding the translated request: %v", err)
	}
	if again := back.AppendTo(nil); !bytes.Equal(again, wire) {
		t.Errorf("re-encoded request differs:\n got %x\nwant %x", again, wire)
	}
}

func TestGroupsTablesReachEveryCap(t *testing.T) {
	atCap := map[int16]bool{}
	for _, table := range groupsTestTables {
		for _, c := range table() {
			if c.req.GetVersion() == groupsTestCaps[c.req.Key()] {
				atCap[c.req.Key()] = true
			}
		}
	}
	for key := range groupsTestCaps {
		if !atCap[key] {
			t.Errorf("no case translates %s at version %d", kmsg.NameForKey(key), groupsTestCaps[key])
		}
	}
}

func TestGroupsVersionCaps(t *testing.T) {
	tenant, passthrough := New("team-a", nil), New(Passthrough, nil)
	for key, limit := range groupsTestCaps {
		name := kmsg.NameForKey(key)
		if got := tenant.MaxVersion(key); got != limit {
			t.Errorf("%s: MaxVersion %d, want %d", name, got, limit)
		}
		if got := passthrough.MaxVersion(key); got != math.MaxInt16 {
			t.Errorf("%s: passthrough MaxVersion %d, want unrestricted", name, got)
		}
		if passthrough.Translates(key) {
			t.Errorf("%s: passthrough translates", name)
		}
		req := kmsg.RequestForKey(key)
		req.SetVersion(limit)
		if _, err := tenant.Request(req, nil); err != nil {
			t.Errorf("%s v%d: %v", name, limit, err)
		}
		req.SetVersion(limit + 1)
		if _, err := tenant.Request(req, nil); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s v%d: got %v, want ErrUnavailable", name, limit+1, err)
		}
	}
}

func TestGroupsPassthroughUntouched(t *testing.T) {
	req := &kmsg.JoinGroupRequest{Version: 9, Group: "g", ProtocolType: "consumer",
		Protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: groupsTestMeta(3, "t")}}}
	want := &kmsg.JoinGroupRequest{Version: 9, Group: "g", ProtocolType: "consumer",
		Protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: groupsTestMeta(3, "t")}}}
	if _, err := New(Passthrough, nil).Request(req, nil); err != nil {
		t.Fatal(err)
	}
	groupsTestSame(t, "request", req, want)
}

func TestGroupsCoordinator(t *testing.T) { groupsTestRun(t, groupsTestCoordinatorCases()) }

func groupsTestCoordinatorCases() []groupsTestCase {
	single := func(typ int8, key string) *kmsg.FindCoordinatorRequest {
		return &kmsg.FindCoordinatorRequest{Version: 3, CoordinatorType: typ, CoordinatorKey: key}
	}
	batch := func(typ int8, keys ...string) *kmsg.FindCoordinatorRequest {
		return &kmsg.FindCoordinatorRequest{Version: 6, CoordinatorType: typ, CoordinatorKeys: keys}
	}
	singleResp := func(msg string) *kmsg.FindCoordinatorResponse {
		return &kmsg.FindCoordinatorResponse{Version: 3, ThrottleMillis: 1, ErrorCode: 15,
			ErrorMessage: kmsg.StringPtr(msg), NodeID: -1, Port: -1}
	}
	batchResp := func(keys ...string) *kmsg.FindCoordinatorResponse {
		r := &kmsg.FindCoordinatorResponse{Version: 6, ThrottleMillis: 1}
		for _, k := range keys {
			r.Coordinators = append(r.Coordinators, kmsg.FindCoordinatorResponseCoordinator{
				Key: k, NodeID: 2, Host: "broker-2", Port: 9092, ErrorCode: 0,
				ErrorMessage: kmsg.StringPtr("found " + k),
			})
		}
		return r
	}
	return []groupsTestCase{{
		name:     "one group",
		req:      single(0, "g"),
		wantReq:  single(0, "team-a.g"),
		resp:     singleResp("no coordinator for team-a.g"),
		wantResp: singleResp("no coordinator for g"),
	}, {
		name:    "one transactional id",
		req:     single(1, "tx"),
		wantReq: single(1, "team-a.tx"),
	}, {
		name:    "version 0 has no key type",
		req:     &kmsg.FindCoordinatorRequest{Version: 0, CoordinatorKey: "g"},
		wantReq: &kmsg.FindCoordinatorRequest{Version: 0, CoordinatorKey: "team-a.g"},
	}, {
		name:     "batch of groups; a foreign key is dropped",
		req:      batch(0, "g", "h"),
		wantReq:  batch(0, "team-a.g", "team-a.h"),
		resp:     batchResp("team-a.g", "team-b.g", "team-a.h"),
		wantResp: batchResp("g", "h"),
	}, {
		name:     "batch of transactional ids, one empty",
		req:      batch(1, "tx", ""),
		wantReq:  batch(1, "team-a.tx", "team-a."),
		resp:     batchResp("team-a.tx", "team-a."),
		wantResp: batchResp("tx", ""),
	}, {
		name:    "share group key",
		req:     batch(2, "g:AAAAAAAAAAAAAAAAAAAAAA:0"),
		wantReq: batch(2, "team-a.g:AAAAAAAAAAAAAAAAAAAAAA:0"),
	}}
}
