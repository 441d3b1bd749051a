package vcluster

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupsAdmin(t *testing.T) { groupsTestRun(t, groupsTestAdminCases()) }

func groupsTestAdminCases() []groupsTestCase {
	describe := func(version int16, ids ...string) *kmsg.DescribeGroupsRequest {
		return &kmsg.DescribeGroupsRequest{Version: version, Groups: ids, IncludeAuthorizedOperations: true}
	}
	described := func(version int16, groups ...kmsg.DescribeGroupsResponseGroup) *kmsg.DescribeGroupsResponse {
		return &kmsg.DescribeGroupsResponse{Version: version, ThrottleMillis: 1, Groups: groups}
	}
	group := func(id, protocolType string, metadata, assignment []byte, msg string) kmsg.DescribeGroupsResponseGroup {
		return kmsg.DescribeGroupsResponseGroup{ErrorMessage: kmsg.StringPtr(msg), Group: id, State: "Stable",
			ProtocolType: protocolType, Protocol: "range", AuthorizedOperations: 8,
			Members: []kmsg.DescribeGroupsResponseGroupMember{{MemberID: "m-0", InstanceID: kmsg.StringPtr("i-0"),
				ClientID: "c", ClientHost: "/10.0.0.1", ProtocolMetadata: metadata, MemberAssignment: assignment}}}
	}
	listed := func(version int16, ids ...string) *kmsg.ListGroupsResponse {
		r := &kmsg.ListGroupsResponse{Version: version, ThrottleMillis: 1}
		for _, id := range ids {
			r.Groups = append(r.Groups, kmsg.ListGroupsResponseGroup{Group: id, ProtocolType: "consumer", GroupState: "Stable", GroupType: "classic"})
		}
		return r
	}
	list := func() *kmsg.ListGroupsRequest {
		return &kmsg.ListGroupsRequest{Version: 5, StatesFilter: []string{"Stable"}, TypesFilter: []string{"classic"}}
	}
	deleted := func(groups ...kmsg.DeleteGroupsResponseGroup) *kmsg.DeleteGroupsResponse {
		return &kmsg.DeleteGroupsResponse{Version: 3, ThrottleMillis: 1, Groups: groups}
	}
	meta, assign := groupsTestMeta, groupsTestAssign
	return []groupsTestCase{{
		name:    "describe: ids both ways, consumer bytes translated, a foreign id dropped",
		req:     describe(6, "g", "h", ""),
		wantReq: describe(6, "team-a.g", "team-a.h", "team-a."),
		resp: described(6,
			group("team-a.g", "consumer", meta(3, "team-a.orders", "team-b.x"), assign(1, "team-a.orders"), "about team-a.g"),
			group("team-a.h", "connect", meta(3, "team-a.orders"), assign(1, "team-a.orders"), ""),
			group("team-a.", "", nil, nil, "no group team-a."),
			group("team-b.g", "consumer", nil, nil, "")),
		wantResp: described(6,
			group("g", "consumer", meta(3, "orders"), assign(1, "orders"), "about g"),
			group("h", "connect", meta(3, "team-a.orders"), assign(1, "team-a.orders"), ""),
			group("", "", nil, nil, "no group ")),
	}, {
		name:     "describe: version 0",
		req:      describe(0, "g"),
		wantReq:  describe(0, "team-a.g"),
		resp:     described(0, group("team-a.g", "consumer", meta(0, "team-a.orders"), assign(0, "team-a.orders"), "")),
		wantResp: described(0, group("g", "consumer", meta(0, "orders"), assign(0, "orders"), "")),
	}, {
		name:     "list: only the space's groups, logical",
		req:      list(),
		wantReq:  list(),
		resp:     listed(5, "team-a.g", "team-b.g", "plain", "team-a.", "team-a", "team-a.team-b.g", "_strait_offsets"),
		wantResp: listed(5, "g", "team-b.g"),
	}, {
		name:     "list: nothing of the space",
		req:      &kmsg.ListGroupsRequest{Version: 0},
		wantReq:  &kmsg.ListGroupsRequest{Version: 0},
		resp:     listed(0, "team-b.g", "plain"),
		wantResp: &kmsg.ListGroupsResponse{Version: 0, ThrottleMillis: 1, Groups: []kmsg.ListGroupsResponseGroup{}},
	}, {
		name:    "delete: ids both ways, messages scrubbed",
		req:     &kmsg.DeleteGroupsRequest{Version: 3, Groups: []string{"g", "h"}},
		wantReq: &kmsg.DeleteGroupsRequest{Version: 3, Groups: []string{"team-a.g", "team-a.h"}},
		resp: deleted(
			kmsg.DeleteGroupsResponseGroup{Group: "team-a.g"},
			kmsg.DeleteGroupsResponseGroup{Group: "team-a.h", ErrorCode: 69, ErrorMessage: kmsg.StringPtr("group team-a.h does not exist")},
			kmsg.DeleteGroupsResponseGroup{Group: "team-b.g"}),
		wantResp: deleted(
			kmsg.DeleteGroupsResponseGroup{Group: "g"},
			kmsg.DeleteGroupsResponseGroup{Group: "h", ErrorCode: 69, ErrorMessage: kmsg.StringPtr("group h does not exist")}),
	}}
}
