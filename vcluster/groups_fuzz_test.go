package vcluster

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupsTestFuzzKeys are the responses FuzzGroupsResponse decodes.
var groupsTestFuzzKeys = []int16{16, 15, 9} // ListGroups, DescribeGroups, OffsetFetch

// groupsTestGroupIDs returns the group ids a response names.
func groupsTestGroupIDs(resp kmsg.Response) []string {
	var ids []string
	switch r := resp.(type) {
	case *kmsg.ListGroupsResponse:
		for _, g := range r.Groups {
			ids = append(ids, g.Group)
		}
	case *kmsg.DescribeGroupsResponse:
		for _, g := range r.Groups {
			ids = append(ids, g.Group)
		}
	case *kmsg.OffsetFetchResponse:
		for _, g := range r.Groups {
			ids = append(ids, g.Group)
		}
	}
	return ids
}

func FuzzGroupsResponse(f *testing.F) {
	for _, resp := range []kmsg.Response{
		&kmsg.ListGroupsResponse{Version: 5, Groups: []kmsg.ListGroupsResponseGroup{{Group: "team-a.g"}, {Group: "team-b.g"}, {Group: "team-a."}}},
		&kmsg.DescribeGroupsResponse{Version: 6, Groups: []kmsg.DescribeGroupsResponseGroup{
			{Group: "team-a.g", ProtocolType: "consumer", Members: []kmsg.DescribeGroupsResponseGroupMember{
				{ProtocolMetadata: groupsTestMeta(3, "team-a.t", "x"), MemberAssignment: groupsTestAssign(1, "team-a.t", "x")}}},
			{Group: "plain"}}},
		&kmsg.OffsetFetchResponse{Version: 9, Groups: []kmsg.OffsetFetchResponseGroup{
			{Group: "team-a.g", Topics: []kmsg.OffsetFetchResponseGroupTopic{{Topic: "team-a.t"}, {Topic: "x"}}}, {Group: "x"}}},
		&kmsg.OffsetFetchResponse{Version: 7, Topics: []kmsg.OffsetFetchResponseTopic{{Topic: "team-a.t"}}},
	} {
		f.Add(resp.AppendTo(nil), resp.GetVersion(), uint8(slices.Index(groupsTestFuzzKeys, resp.Key())))
	}
	f.Fuzz(func(t *testing.T, wire []byte, version int16, which uint8) {
		s := New("team-a", nil)
		req := kmsg.RequestForKey(groupsTestFuzzKeys[int(which)%len(groupsTestFuzzKeys)])
		limit := s.MaxVersion(req.Key())
		req.SetVersion(min(max(version, 0), limit))
		x, err := s.Request(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := req.ResponseKind()
		if resp.ReadFrom(wire) != nil {
			return
		}
		physical := map[string]bool{}
		for _, id := range groupsTestGroupIDs(resp) {
			physical[id] = true
		}
		if err := x.Response(resp); err != nil {
			t.Fatal(err)
		}
		for _, id := range groupsTestGroupIDs(resp) {
			if !physical["team-a."+id] {
				t.Fatalf("group %q is not a stripped id of the space", id)
			}
		}
	})
}
