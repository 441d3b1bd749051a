package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Guards of the consumer group APIs. Joining, syncing, heartbeating,
// leaving and committing need READ on the group, describing and fetching
// offsets DESCRIBE, deleting DELETE; committed offsets also need READ on
// each topic.

func init() {
	guardKey(10, guard{request: aFindCoordinatorRequest, response: aFindCoordinatorResponse})
	guardKey(11, aWhole(func(x *Exchange, r *kmsg.JoinGroupRequest) kmsg.Response {
		if x.canGroup(r.Group, kmsg.ACLOperationRead) {
			return nil
		}
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode, resp.Generation = kerr.GroupAuthorizationFailed.Code, -1
		return resp
	}))
	guardKey(12, aWhole(func(x *Exchange, r *kmsg.HeartbeatRequest) kmsg.Response {
		if x.canGroup(r.Group, kmsg.ACLOperationRead) {
			return nil
		}
		resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}))
	guardKey(13, aWhole(func(x *Exchange, r *kmsg.LeaveGroupRequest) kmsg.Response {
		if x.canGroup(r.Group, kmsg.ACLOperationRead) {
			return nil
		}
		resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}))
	guardKey(14, aWhole(func(x *Exchange, r *kmsg.SyncGroupRequest) kmsg.Response {
		if x.canGroup(r.Group, kmsg.ACLOperationRead) {
			return nil
		}
		resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}))
	guardKey(68, aWhole(func(x *Exchange, r *kmsg.ConsumerGroupHeartbeatRequest) kmsg.Response {
		if x.canGroup(r.Group, kmsg.ACLOperationRead) {
			return nil
		}
		resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}))

	offsetCommit := aTopicGuard(kmsg.ACLOperationRead,
		func(r *kmsg.OffsetCommitRequest) *[]kmsg.OffsetCommitRequestTopic { return &r.Topics },
		func(t *kmsg.OffsetCommitRequestTopic) string { return t.Topic },
		func(t *kmsg.OffsetCommitRequestTopic, code int16) kmsg.OffsetCommitResponseTopic {
			a := kmsg.NewOffsetCommitResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewOffsetCommitResponseTopicPartition()
				ap.Partition, ap.ErrorCode = p.Partition, code
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.OffsetCommitResponse) *[]kmsg.OffsetCommitResponseTopic { return &r.Topics })
	guardKey(8, guard{
		request: func(x *Exchange, req kmsg.Request) bool {
			if !x.canGroup(req.(*kmsg.OffsetCommitRequest).Group, kmsg.ACLOperationRead) {
				return offsetCommit.refuseAll(x, req, kerr.GroupAuthorizationFailed.Code)
			}
			return offsetCommit.request(x, req)
		},
		response: offsetCommit.response,
	})
	guardKey(9, guard{request: aOffsetFetchRequest, response: aOffsetFetchResponse})

	offsetDelete := aTopicGuard(kmsg.ACLOperationRead,
		func(r *kmsg.OffsetDeleteRequest) *[]kmsg.OffsetDeleteRequestTopic { return &r.Topics },
		func(t *kmsg.OffsetDeleteRequestTopic) string { return t.Topic },
		func(t *kmsg.OffsetDeleteRequestTopic, code int16) kmsg.OffsetDeleteResponseTopic {
			a := kmsg.NewOffsetDeleteResponseTopic()
			a.Topic = t.Topic
			for _, p := range t.Partitions {
				ap := kmsg.NewOffsetDeleteResponseTopicPartition()
				ap.Partition, ap.ErrorCode = p.Partition, code
				a.Partitions = append(a.Partitions, ap)
			}
			return a
		},
		func(r *kmsg.OffsetDeleteResponse) *[]kmsg.OffsetDeleteResponseTopic { return &r.Topics })
	guardKey(47, guard{
		request: func(x *Exchange, req kmsg.Request) bool {
			r := req.(*kmsg.OffsetDeleteRequest)
			if !x.canGroup(r.Group, kmsg.ACLOperationDelete) {
				resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
				resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
				x.Local = resp
				return false
			}
			return offsetDelete.request(x, req)
		},
		response: offsetDelete.response,
	})

	guardKey(15, aGroupGuard(kmsg.ACLOperationDescribe,
		func(r *kmsg.DescribeGroupsRequest) *[]string { return &r.Groups },
		func(group string, code int16) kmsg.DescribeGroupsResponseGroup {
			a := kmsg.NewDescribeGroupsResponseGroup()
			a.Group, a.ErrorCode = group, code
			return a
		},
		func(r *kmsg.DescribeGroupsResponse) *[]kmsg.DescribeGroupsResponseGroup { return &r.Groups }))
	guardKey(42, aGroupGuard(kmsg.ACLOperationDelete,
		func(r *kmsg.DeleteGroupsRequest) *[]string { return &r.Groups },
		func(group string, code int16) kmsg.DeleteGroupsResponseGroup {
			a := kmsg.NewDeleteGroupsResponseGroup()
			a.Group, a.ErrorCode = group, code
			return a
		},
		func(r *kmsg.DeleteGroupsResponse) *[]kmsg.DeleteGroupsResponseGroup { return &r.Groups }))
	guardKey(69, aGroupGuard(kmsg.ACLOperationDescribe,
		func(r *kmsg.ConsumerGroupDescribeRequest) *[]string { return &r.Groups },
		func(group string, code int16) kmsg.ConsumerGroupDescribeResponseGroup {
			a := kmsg.NewConsumerGroupDescribeResponseGroup()
			a.Group, a.ErrorCode = group, code
			return a
		},
		func(r *kmsg.ConsumerGroupDescribeResponse) *[]kmsg.ConsumerGroupDescribeResponseGroup {
			return &r.Groups
		}))
	guardKey(16, guard{
		request: func(*Exchange, kmsg.Request) bool { return true },
		response: func(x *Exchange, resp kmsg.Response) {
			r := resp.(*kmsg.ListGroupsResponse)
			r.Groups = retain(r.Groups, func(g *kmsg.ListGroupsResponseGroup) bool {
				return x.canGroup(g.Group, kmsg.ACLOperationDescribe)
			})
		},
	})
}

// aWhole returns the guard of an API whose request is allowed or refused
// as a whole: refusal returns the answer, nil allows the request.
func aWhole[Req kmsg.Request](refusal func(*Exchange, Req) kmsg.Response) guard {
	return guard{request: func(x *Exchange, req kmsg.Request) bool {
		if resp := refusal(x, req.(Req)); resp != nil {
			x.Local = resp
			return false
		}
		return true
	}}
}

// aGroupGuard returns the guard that requires op on every group a request
// lists.
func aGroupGuard[Req kmsg.Request, Resp kmsg.Response, A any](op kmsg.ACLOperation, groups func(Req) *[]string, answer func(string, int16) A, answers func(Resp) *[]A) guard {
	return aEntries[Req, Resp, string, A]{
		entries: groups,
		check: func(x *Exchange, g *string) int16 {
			if x.canGroup(*g, op) {
				return 0
			}
			return kerr.GroupAuthorizationFailed.Code
		},
		answer:  func(g *string, code int16) A { return answer(*g, code) },
		answers: answers,
	}.guard()
}

// aFindCoordinatorRequest requires DESCRIBE on the group or transactional
// id whose coordinator is asked for.
func aFindCoordinatorRequest(x *Exchange, req kmsg.Request) bool {
	r := req.(*kmsg.FindCoordinatorRequest)
	code := func(key string) int16 {
		if r.CoordinatorType == 1 {
			if x.canTxn(key, kmsg.ACLOperationDescribe) {
				return 0
			}
			return kerr.TransactionalIDAuthorizationFailed.Code
		}
		if x.canGroup(key, kmsg.ACLOperationDescribe) {
			return 0
		}
		return kerr.GroupAuthorizationFailed.Code
	}
	if r.Version < 4 {
		if c := code(r.CoordinatorKey); c != 0 {
			resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
			resp.ErrorCode, resp.NodeID = c, -1
			x.Local = resp
			return false
		}
		return true
	}
	var refused []kmsg.FindCoordinatorResponseCoordinator
	r.CoordinatorKeys, refused = tSplit(r.CoordinatorKeys, func(k *string) (kmsg.FindCoordinatorResponseCoordinator, bool) {
		a := kmsg.NewFindCoordinatorResponseCoordinator()
		a.Key, a.NodeID, a.ErrorCode = *k, -1, code(*k)
		return a, a.ErrorCode != 0
	})
	aKeep(x, refused)
	return len(r.CoordinatorKeys) > 0
}

func aFindCoordinatorResponse(x *Exchange, resp kmsg.Response) {
	r := resp.(*kmsg.FindCoordinatorResponse)
	r.Coordinators = append(r.Coordinators, aAnswers[kmsg.FindCoordinatorResponseCoordinator](x)...)
}

// aOffsetFetchRequest requires DESCRIBE on each group; the response keeps
// only the topics the client may describe.
func aOffsetFetchRequest(x *Exchange, req kmsg.Request) bool {
	r := req.(*kmsg.OffsetFetchRequest)
	if r.Version < 8 {
		if x.canGroup(r.Group, kmsg.ACLOperationDescribe) {
			return true
		}
		resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		x.Local = resp
		return false
	}
	var refused []kmsg.OffsetFetchResponseGroup
	r.Groups, refused = tSplit(r.Groups, func(g *kmsg.OffsetFetchRequestGroup) (kmsg.OffsetFetchResponseGroup, bool) {
		a := kmsg.NewOffsetFetchResponseGroup()
		a.Group, a.ErrorCode = g.Group, kerr.GroupAuthorizationFailed.Code
		return a, !x.canGroup(g.Group, kmsg.ACLOperationDescribe)
	})
	aKeep(x, refused)
	return len(r.Groups) > 0
}

func aOffsetFetchResponse(x *Exchange, resp kmsg.Response) {
	r := resp.(*kmsg.OffsetFetchResponse)
	r.Topics = retain(r.Topics, func(t *kmsg.OffsetFetchResponseTopic) bool {
		return x.canTopic(t.Topic, kmsg.ACLOperationDescribe)
	})
	for i := range r.Groups {
		g := &r.Groups[i]
		g.Topics = retain(g.Topics, func(t *kmsg.OffsetFetchResponseGroupTopic) bool {
			return x.canTopic(t.Topic, kmsg.ACLOperationDescribe)
		})
	}
	r.Groups = append(r.Groups, aAnswers[kmsg.OffsetFetchResponseGroup](x)...)
}
