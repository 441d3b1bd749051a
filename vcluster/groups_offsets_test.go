package vcluster

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupsOffsets(t *testing.T) { groupsTestRun(t, groupsTestOffsetCases()) }

func groupsTestOffsetCases() []groupsTestCase {
	commit := func(group string, topics ...string) *kmsg.OffsetCommitRequest {
		r := &kmsg.OffsetCommitRequest{Version: 9, Group: group, Generation: 4, MemberID: "m-0", InstanceID: kmsg.StringPtr("i-0")}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.OffsetCommitRequestTopic{Topic: t, Partitions: []kmsg.OffsetCommitRequestTopicPartition{
				{Partition: 1, Offset: 42, Timestamp: -1, LeaderEpoch: 3, Metadata: kmsg.StringPtr("meta")}}})
		}
		return r
	}
	committed := func(topics ...string) *kmsg.OffsetCommitResponse {
		r := &kmsg.OffsetCommitResponse{Version: 9, ThrottleMillis: 1}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.OffsetCommitResponseTopic{Topic: t, Partitions: []kmsg.OffsetCommitResponseTopicPartition{{Partition: 1}}})
		}
		return r
	}
	fetchOne := func(group string, topics ...string) *kmsg.OffsetFetchRequest {
		r := &kmsg.OffsetFetchRequest{Version: 7, Group: group, RequireStable: true}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.OffsetFetchRequestTopic{Topic: t, Partitions: []int32{0, 1}})
		}
		return r
	}
	fetchedOne := func(topics ...string) *kmsg.OffsetFetchResponse {
		r := &kmsg.OffsetFetchResponse{Version: 7, ThrottleMillis: 1}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.OffsetFetchResponseTopic{Topic: t, Partitions: []kmsg.OffsetFetchResponseTopicPartition{
				{Partition: 0, Offset: 42, LeaderEpoch: 3, Metadata: kmsg.StringPtr("meta")}}})
		}
		return r
	}
	fetchGroup := func(id string, topics ...string) kmsg.OffsetFetchRequestGroup {
		g := kmsg.OffsetFetchRequestGroup{Group: id, MemberID: kmsg.StringPtr("m-0"), MemberEpoch: 5}
		for _, t := range topics {
			g.Topics = append(g.Topics, kmsg.OffsetFetchRequestGroupTopic{Topic: t, Partitions: []int32{0}})
		}
		return g
	}
	fetchedGroup := func(id string, topics ...string) kmsg.OffsetFetchResponseGroup {
		g := kmsg.OffsetFetchResponseGroup{Group: id}
		for _, t := range topics {
			g.Topics = append(g.Topics, kmsg.OffsetFetchResponseGroupTopic{Topic: t, Partitions: []kmsg.OffsetFetchResponseGroupTopicPartition{
				{Partition: 0, Offset: 42, LeaderEpoch: 3, Metadata: kmsg.StringPtr("meta")}}})
		}
		return g
	}
	fetchMany := func(groups ...kmsg.OffsetFetchRequestGroup) *kmsg.OffsetFetchRequest {
		return &kmsg.OffsetFetchRequest{Version: 9, Groups: groups, RequireStable: true}
	}
	fetchedMany := func(groups ...kmsg.OffsetFetchResponseGroup) *kmsg.OffsetFetchResponse {
		return &kmsg.OffsetFetchResponse{Version: 9, ThrottleMillis: 1, Groups: groups}
	}
	del := func(group string, topics ...string) *kmsg.OffsetDeleteRequest {
		r := &kmsg.OffsetDeleteRequest{Group: group}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.OffsetDeleteRequestTopic{Topic: t, Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 2}}})
		}
		return r
	}
	deleted := func(topics ...string) *kmsg.OffsetDeleteResponse {
		r := &kmsg.OffsetDeleteResponse{ThrottleMillis: 1}
		for _, t := range topics {
			r.Topics = append(r.Topics, kmsg.OffsetDeleteResponseTopic{Topic: t, Partitions: []kmsg.OffsetDeleteResponseTopicPartition{{Partition: 2, ErrorCode: 86}}})
		}
		return r
	}
	return []groupsTestCase{{
		name:     "commit",
		req:      commit("g", "orders", "billing"),
		wantReq:  commit("team-a.g", "team-a.orders", "team-a.billing"),
		resp:     committed("team-a.orders", "team-b.secret", "team-a.billing"),
		wantResp: committed("orders", "billing"),
	}, {
		name:     "fetch one group",
		req:      fetchOne("g", "orders"),
		wantReq:  fetchOne("team-a.g", "team-a.orders"),
		resp:     fetchedOne("team-a.orders", "team-b.secret"),
		wantResp: fetchedOne("orders"),
	}, {
		name:     "fetch all topics of one group",
		req:      fetchOne("g"),
		wantReq:  fetchOne("team-a.g"),
		resp:     fetchedOne("team-a.orders", "plain", "team-a.billing"),
		wantResp: fetchedOne("orders", "billing"),
	}, {
		name:    "fetch a batch of groups",
		req:     fetchMany(fetchGroup("g", "orders"), fetchGroup("h"), fetchGroup("")),
		wantReq: fetchMany(fetchGroup("team-a.g", "team-a.orders"), fetchGroup("team-a.h"), fetchGroup("team-a.")),
		resp: fetchedMany(fetchedGroup("team-a.g", "team-a.orders", "team-b.secret"), fetchedGroup("team-b.g", "team-b.secret"),
			fetchedGroup("team-a.h", "team-a.billing"), fetchedGroup("team-a.")),
		wantResp: fetchedMany(fetchedGroup("g", "orders"), fetchedGroup("h", "billing"), fetchedGroup("")),
	}, {
		name:     "delete",
		req:      del("g", "orders"),
		wantReq:  del("team-a.g", "team-a.orders"),
		resp:     deleted("team-a.orders", "team-b.secret"),
		wantResp: deleted("orders"),
	}}
}

func TestGroupsOffsetsAlias(t *testing.T) {
	s := New("team-a", map[string]string{"shared": "global.shared"})
	req := &kmsg.OffsetFetchRequest{Version: 7, Group: "g", Topics: []kmsg.OffsetFetchRequestTopic{{Topic: "shared"}}}
	x, err := s.Request(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Topics[0].Topic; got != "global.shared" {
		t.Errorf("request topic %q, want the alias's physical topic", got)
	}
	resp := &kmsg.OffsetFetchResponse{Version: 7, Topics: []kmsg.OffsetFetchResponseTopic{{Topic: "global.shared"}, {Topic: "global.other"}}}
	if err := x.Response(resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].Topic != "shared" {
		t.Errorf("response topics %+v, want only the alias", resp.Topics)
	}
}
