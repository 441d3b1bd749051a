package vcluster

import "github.com/twmb/franz-go/pkg/kmsg"

// The classic group membership APIs: each names one group, and JoinGroup
// and SyncGroup carry the members' embedded protocol bytes.

func init() {
	register(11, rule{ // JoinGroup
		maxVersion: 9,
		request: gRequest(func(x *Exchange, r *kmsg.JoinGroupRequest) {
			r.Group = x.Space.Group(r.Group)
			x.state = r.ProtocolType
			if r.ProtocolType != gConsumerProtocol {
				return
			}
			for i := range r.Protocols {
				p := &r.Protocols[i]
				p.Metadata = gMetadata(p.Metadata, gPhysicalTopic(x))
			}
		}),
		// A member joins only with the group's protocol type, so the
		// request's type is the members' type.
		response: gResponse(func(x *Exchange, r *kmsg.JoinGroupResponse) {
			if x.state != gConsumerProtocol {
				return
			}
			for i := range r.Members {
				m := &r.Members[i]
				m.ProtocolMetadata = gMetadata(m.ProtocolMetadata, x.logicalTopic)
			}
		}),
	})
	register(14, rule{ // SyncGroup
		maxVersion: 5,
		request: gRequest(func(x *Exchange, r *kmsg.SyncGroupRequest) {
			r.Group = x.Space.Group(r.Group)
			if !gMaybeConsumer(r.ProtocolType) {
				return
			}
			for i := range r.GroupAssignment {
				a := &r.GroupAssignment[i]
				a.MemberAssignment = gAssignment(a.MemberAssignment, gPhysicalTopic(x))
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.SyncGroupResponse) {
			if gMaybeConsumer(r.ProtocolType) {
				r.MemberAssignment = gAssignment(r.MemberAssignment, x.logicalTopic)
			}
		}),
	})
	register(12, rule{ // Heartbeat
		maxVersion: 4,
		request: gRequest(func(x *Exchange, r *kmsg.HeartbeatRequest) {
			r.Group = x.Space.Group(r.Group)
		}),
	})
	register(13, rule{ // LeaveGroup
		maxVersion: 5,
		request: gRequest(func(x *Exchange, r *kmsg.LeaveGroupRequest) {
			r.Group = x.Space.Group(r.Group)
		}),
	})
}
