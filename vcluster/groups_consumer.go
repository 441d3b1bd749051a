package vcluster

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The consumer group protocol of KIP-848. Members subscribe by topic name
// or regular expression; assignments travel as topic ids, which are left to
// the rules of the APIs that resolve them.

func init() {
	register(68, rule{ // ConsumerGroupHeartbeat
		maxVersion: 1,
		request: gRequest(func(x *Exchange, r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.Group = x.Space.Group(r.Group)
			r.SubscribedTopicNames = gNames(r.SubscribedTopicNames, gPhysicalTopic(x))
			// nil leaves the regex as it was and "" clears it.
			if r.SubscribedTopicRegex == nil || *r.SubscribedTopicRegex == "" {
				return
			}
			anchored, ok := gAnchor(x.Space, *r.SubscribedTopicRegex)
			if !ok {
				resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
				resp.ErrorCode = kerr.InvalidRegularExpression.Code
				x.Local = resp
				return
			}
			r.SubscribedTopicRegex = &anchored
		}),
		response: gResponse(func(x *Exchange, r *kmsg.ConsumerGroupHeartbeatResponse) {
			x.Space.Scrub(r.ErrorMessage)
		}),
	})
	register(69, rule{ // ConsumerGroupDescribe
		maxVersion: 1,
		request: gRequest(func(x *Exchange, r *kmsg.ConsumerGroupDescribeRequest) {
			gGroups(x.Space, r.Groups)
		}),
		response: gResponse(func(x *Exchange, r *kmsg.ConsumerGroupDescribeResponse) {
			r.Groups = retain(r.Groups, func(g *kmsg.ConsumerGroupDescribeResponseGroup) bool {
				x.Space.Scrub(g.ErrorMessage)
				for i := range g.Members {
					gMember(x, &g.Members[i])
				}
				return gRename(&g.Group, x.Space.gEcho)
			})
		}),
	})
}

// gMember translates what a described member subscribes to and is assigned.
// A regex the gateway did not anchor, set by a client outside the space, is
// not shown.
func gMember(x *Exchange, m *kmsg.ConsumerGroupDescribeResponseGroupMember) {
	m.SubscribedTopics = gNames(m.SubscribedTopics, x.logicalTopic)
	if p := m.SubscribedTopicRegex; p != nil && *p != "" {
		m.SubscribedTopicRegex = nil
		if logical, ok := gUnanchor(x.Space, *p); ok {
			m.SubscribedTopicRegex = &logical
		}
	}
	for _, a := range []*kmsg.Assignment{&m.Assignment, &m.TargetAssignment} {
		a.TopicPartitions = retain(a.TopicPartitions, func(t *kmsg.AssignmentTopicPartition) bool {
			return gRename(&t.Topic, x.logicalTopic)
		})
	}
}
