package vcluster

import "github.com/twmb/franz-go/pkg/kmsg"

// The committed offset APIs name a group and the topics in it. OffsetCommit
// and OffsetFetch name topics by id from version 10, which tenants cannot
// use.

func init() {
	register(8, rule{ // OffsetCommit
		maxVersion: 9,
		request: gRequest(func(x *Exchange, r *kmsg.OffsetCommitRequest) {
			r.Group = x.Space.Group(r.Group)
			for i := range r.Topics {
				t := &r.Topics[i]
				t.Topic = x.topic(t.Topic)
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.OffsetCommitResponse) {
			r.Topics = retain(r.Topics, func(t *kmsg.OffsetCommitResponseTopic) bool {
				return gRename(&t.Topic, x.logicalTopic)
			})
		}),
	})
	register(9, rule{ // OffsetFetch: one group before version 8, a batch after.
		maxVersion: 9,
		request: gRequest(func(x *Exchange, r *kmsg.OffsetFetchRequest) {
			if r.Version < 8 {
				r.Group = x.Space.Group(r.Group)
			}
			for i := range r.Topics {
				t := &r.Topics[i]
				t.Topic = x.topic(t.Topic)
			}
			for i := range r.Groups {
				g := &r.Groups[i]
				g.Group = x.Space.Group(g.Group)
				for j := range g.Topics {
					t := &g.Topics[j]
					t.Topic = x.topic(t.Topic)
				}
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.OffsetFetchResponse) {
			r.Topics = retain(r.Topics, func(t *kmsg.OffsetFetchResponseTopic) bool {
				return gRename(&t.Topic, x.logicalTopic)
			})
			r.Groups = retain(r.Groups, func(g *kmsg.OffsetFetchResponseGroup) bool {
				g.Topics = retain(g.Topics, func(t *kmsg.OffsetFetchResponseGroupTopic) bool {
					return gRename(&t.Topic, x.logicalTopic)
				})
				return gRename(&g.Group, x.Space.gEcho)
			})
		}),
	})
	register(47, rule{ // OffsetDelete
		maxVersion: 0,
		request: gRequest(func(x *Exchange, r *kmsg.OffsetDeleteRequest) {
			r.Group = x.Space.Group(r.Group)
			for i := range r.Topics {
				t := &r.Topics[i]
				t.Topic = x.topic(t.Topic)
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.OffsetDeleteResponse) {
			r.Topics = retain(r.Topics, func(t *kmsg.OffsetDeleteResponseTopic) bool {
				return gRename(&t.Topic, x.logicalTopic)
			})
		}),
	})
}
