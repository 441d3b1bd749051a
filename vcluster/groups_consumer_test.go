package vcluster

import (
	"regexp"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupsConsumer(t *testing.T) { groupsTestRun(t, groupsTestConsumerCases()) }

func groupsTestConsumerCases() []groupsTestCase {
	ptr := kmsg.StringPtr
	heartbeat := func(version int16, group string, regex *string, names ...string) *kmsg.ConsumerGroupHeartbeatRequest {
		return &kmsg.ConsumerGroupHeartbeatRequest{Version: version, Group: group, MemberID: "m-0", MemberEpoch: 3,
			InstanceID: ptr("i-0"), RackID: ptr("r-1"), RebalanceTimeoutMillis: 60000,
			SubscribedTopicNames: names, SubscribedTopicRegex: regex, ServerAssignor: ptr("uniform"),
			Topics: []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: [16]byte{1}, Partitions: []int32{0}}}}
	}
	beat := func(msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		return &kmsg.ConsumerGroupHeartbeatResponse{Version: 1, ThrottleMillis: 1, ErrorMessage: ptr(msg),
			MemberID: ptr("m-0"), MemberEpoch: 4, HeartbeatIntervalMillis: 5000,
			Assignment: &kmsg.ConsumerGroupHeartbeatResponseAssignment{Topics: []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{
				{TopicID: [16]byte{1}, Partitions: []int32{0, 1}}}}}
	}
	describe := func(ids ...string) *kmsg.ConsumerGroupDescribeRequest {
		return &kmsg.ConsumerGroupDescribeRequest{Version: 1, Groups: ids, IncludeAuthorizedOperations: true}
	}
	assignment := func(topics []string) kmsg.Assignment {
		var a kmsg.Assignment
		for _, t := range topics {
			a.TopicPartitions = append(a.TopicPartitions, kmsg.AssignmentTopicPartition{TopicID: [16]byte{7}, Topic: t, Partitions: []int32{0}})
		}
		return a
	}
	member := func(regex *string, topics ...string) kmsg.ConsumerGroupDescribeResponseGroupMember {
		return kmsg.ConsumerGroupDescribeResponseGroupMember{MemberID: "m-0", InstanceID: ptr("i-0"), RackID: ptr("r-1"),
			MemberEpoch: 4, ClientID: "c", ClientHost: "/10.0.0.1", SubscribedTopics: topics, SubscribedTopicRegex: regex,
			Assignment: assignment(topics), TargetAssignment: assignment(topics), MemberType: 1}
	}
	group := func(id, msg string, members ...kmsg.ConsumerGroupDescribeResponseGroupMember) kmsg.ConsumerGroupDescribeResponseGroup {
		return kmsg.ConsumerGroupDescribeResponseGroup{ErrorMessage: ptr(msg), Group: id, State: "Stable", Epoch: 4,
			AssignmentEpoch: 4, AssignorName: "uniform", Members: members, AuthorizedOperations: 8}
	}
	described := func(groups ...kmsg.ConsumerGroupDescribeResponseGroup) *kmsg.ConsumerGroupDescribeResponse {
		return &kmsg.ConsumerGroupDescribeResponse{Version: 1, ThrottleMillis: 1, Groups: groups}
	}
	return []groupsTestCase{{
		name:     "heartbeat: names and regex",
		req:      heartbeat(1, "g", ptr("ord.*"), "orders", "billing"),
		wantReq:  heartbeat(1, "team-a.g", ptr(`team-a\.(?:ord.*)`), "team-a.orders", "team-a.billing"),
		resp:     beat("member of team-a.g"),
		wantResp: beat("member of g"),
	}, {
		name:    "heartbeat: version 0, unchanged subscription",
		req:     heartbeat(0, "g", nil),
		wantReq: heartbeat(0, "team-a.g", nil),
	}, {
		name:    "heartbeat: an empty regex clears it",
		req:     heartbeat(1, "g", ptr("")),
		wantReq: heartbeat(1, "team-a.g", ptr("")),
	}, {
		name:      "heartbeat: a regex that does not parse is answered locally",
		req:       heartbeat(1, "g", ptr("x)|(.*"), "orders"),
		wantReq:   heartbeat(1, "team-a.g", ptr("x)|(.*"), "team-a.orders"),
		wantLocal: &kmsg.ConsumerGroupHeartbeatResponse{Version: 1, ErrorCode: kerr.InvalidRegularExpression.Code},
	}, {
		name:    "describe",
		req:     describe("g", "h"),
		wantReq: describe("team-a.g", "team-a.h"),
		resp: described(
			group("team-a.g", "",
				member(ptr(`team-a\.(?:ord.*)`), "team-a.orders", "team-b.secret"),
				member(nil, "team-a.billing"),
				member(ptr("")),
				member(ptr("set.by.someone.else"))),
			group("team-b.g", ""),
			group("team-a.h", "team-a.h is not a consumer group")),
		wantResp: described(
			group("g", "",
				member(ptr("ord.*"), "orders"),
				member(nil, "billing"),
				member(ptr("")),
				member(nil)),
			group("h", "h is not a consumer group")),
	}}
}

func TestGroupsRegexAnchor(t *testing.T) {
	s := New("team-a", nil)
	anchored, ok := gAnchor(s, "ord.*")
	if !ok {
		t.Fatal("ord.* did not anchor")
	}
	broker := regexp.MustCompile("^(?:" + anchored + ")$") // the broker matches whole names
	for name, want := range map[string]bool{
		"team-a.orders":  true,
		"team-a.ord":     true,
		"team-b.orders":  false,
		"team-a.x":       false,
		"team-aXorders":  false,
		"xteam-a.orders": false,
		"orders":         false,
	} {
		if got := broker.MatchString(name); got != want {
			t.Errorf("%s matches %q: %v, want %v", anchored, name, got, want)
		}
	}
	for _, r := range []string{"ord.*", "a|b", `\)`, "[)]", "(?i)x", ".*"} {
		anchored, ok := gAnchor(s, r)
		if !ok {
			t.Errorf("%q did not anchor", r)
			continue
		}
		if back, ok := gUnanchor(s, anchored); !ok || back != r {
			t.Errorf("%q came back as %q, %v", r, back, ok)
		}
	}
	for _, r := range []string{"x)|(.*", "(", `abc\`, "[a-", ")"} {
		if anchored, ok := gAnchor(s, r); ok {
			t.Errorf("%q anchored as %q", r, anchored)
		}
	}
	for _, p := range []string{"ord.*", `team-b\.(?:ord.*)`, `team-a\.(?:ord.*`} {
		if r, ok := gUnanchor(s, p); ok {
			t.Errorf("%q unanchored as %q", p, r)
		}
	}
}
