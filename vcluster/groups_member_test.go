package vcluster

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupsMember(t *testing.T) { groupsTestRun(t, groupsTestMemberCases()) }

func groupsTestMemberCases() []groupsTestCase {
	consumer, connect := kmsg.StringPtr("consumer"), kmsg.StringPtr("connect")
	join := func(version int16, group, protocolType string, metadata ...[]byte) *kmsg.JoinGroupRequest {
		r := &kmsg.JoinGroupRequest{Version: version, Group: group, SessionTimeoutMillis: 45000,
			RebalanceTimeoutMillis: 60000, MemberID: "m-1", InstanceID: kmsg.StringPtr("i-1"),
			ProtocolType: protocolType, Reason: kmsg.StringPtr("rebalance")}
		for i, m := range metadata {
			r.Protocols = append(r.Protocols, kmsg.JoinGroupRequestProtocol{Name: fmt.Sprint("p", i), Metadata: m})
		}
		return r
	}
	joined := func(version int16, protocolType *string, metadata ...[]byte) *kmsg.JoinGroupResponse {
		r := &kmsg.JoinGroupResponse{Version: version, ThrottleMillis: 1, Generation: 4, ProtocolType: protocolType,
			Protocol: kmsg.StringPtr("p0"), LeaderID: "m-0", MemberID: "m-0"}
		for i, m := range metadata {
			r.Members = append(r.Members, kmsg.JoinGroupResponseMember{MemberID: fmt.Sprint("m-", i), ProtocolMetadata: m})
		}
		return r
	}
	sync := func(version int16, group string, protocolType *string, assignments ...[]byte) *kmsg.SyncGroupRequest {
		r := &kmsg.SyncGroupRequest{Version: version, Group: group, Generation: 4, MemberID: "m-0",
			InstanceID: kmsg.StringPtr("i-0"), Protocol: kmsg.StringPtr("p0"), ProtocolType: protocolType}
		for i, a := range assignments {
			r.GroupAssignment = append(r.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: fmt.Sprint("m-", i), MemberAssignment: a})
		}
		return r
	}
	synced := func(version int16, protocolType *string, assignment []byte) *kmsg.SyncGroupResponse {
		return &kmsg.SyncGroupResponse{Version: version, ThrottleMillis: 1, ProtocolType: protocolType,
			Protocol: kmsg.StringPtr("p0"), MemberAssignment: assignment}
	}
	heartbeat := func(group string) *kmsg.HeartbeatRequest {
		return &kmsg.HeartbeatRequest{Version: 4, Group: group, Generation: 4, MemberID: "m-0", InstanceID: kmsg.StringPtr("i-0")}
	}
	leave := func(version int16, group string) *kmsg.LeaveGroupRequest {
		r := &kmsg.LeaveGroupRequest{Version: version, Group: group}
		if version < 3 {
			r.MemberID = "m-0"
		} else {
			r.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "m-0", InstanceID: kmsg.StringPtr("i-0"), Reason: kmsg.StringPtr("bye")}}
		}
		return r
	}
	meta, assign := groupsTestMeta, groupsTestAssign
	return []groupsTestCase{{
		name:     "join: consumer metadata both ways, foreign topics dropped, junk kept",
		req:      join(9, "g", "consumer", meta(3, "orders"), meta(1, "orders", "billing")),
		wantReq:  join(9, "team-a.g", "consumer", meta(3, "team-a.orders"), meta(1, "team-a.orders", "team-a.billing")),
		resp:     joined(9, consumer, meta(3, "team-a.orders", "team-b.secret"), meta(0, "plain"), []byte("junk")),
		wantResp: joined(9, consumer, meta(3, "orders"), meta(0), []byte("junk")),
	}, {
		name:     "join: version 0 has no protocol type in the response",
		req:      join(0, "g", "consumer", meta(0, "orders")),
		wantReq:  join(0, "team-a.g", "consumer", meta(0, "team-a.orders")),
		resp:     joined(0, nil, meta(0, "team-a.orders")),
		wantResp: joined(0, nil, meta(0, "orders")),
	}, {
		name:     "join: other protocol types are opaque",
		req:      join(9, "g", "connect", meta(3, "orders")),
		wantReq:  join(9, "team-a.g", "connect", meta(3, "orders")),
		resp:     joined(9, connect, meta(3, "team-a.orders")),
		wantResp: joined(9, connect, meta(3, "team-a.orders")),
	}, {
		name:     "sync: consumer assignments both ways",
		req:      sync(5, "g", consumer, assign(0, "orders"), assign(1, "orders", "billing")),
		wantReq:  sync(5, "team-a.g", consumer, assign(0, "team-a.orders"), assign(1, "team-a.orders", "team-a.billing")),
		resp:     synced(5, consumer, assign(1, "team-a.orders", "team-b.secret")),
		wantResp: synced(5, consumer, assign(1, "orders")),
	}, {
		name:     "sync: other protocol types are opaque",
		req:      sync(5, "g", connect, assign(0, "orders")),
		wantReq:  sync(5, "team-a.g", connect, assign(0, "orders")),
		resp:     synced(5, connect, assign(0, "team-a.orders")),
		wantResp: synced(5, connect, assign(0, "team-a.orders")),
	}, {
		name:     "sync: before version 5, assignments that parse are translated",
		req:      sync(3, "g", nil, assign(0, "orders"), []byte("junk"), nil),
		wantReq:  sync(3, "team-a.g", nil, assign(0, "team-a.orders"), []byte("junk"), nil),
		resp:     synced(3, nil, assign(0, "team-a.orders")),
		wantResp: synced(3, nil, assign(0, "orders")),
	}, {
		name:     "sync: a follower's empty assignment",
		req:      sync(5, "g", consumer),
		wantReq:  sync(5, "team-a.g", consumer),
		resp:     synced(5, consumer, nil),
		wantResp: synced(5, consumer, nil),
	}, {
		name:    "heartbeat",
		req:     heartbeat("g"),
		wantReq: heartbeat("team-a.g"),
	}, {
		name:    "leave: one member",
		req:     leave(2, "g"),
		wantReq: leave(2, "team-a.g"),
	}, {
		name:    "leave: a batch of members",
		req:     leave(5, "g"),
		wantReq: leave(5, "team-a.g"),
	}}
}
