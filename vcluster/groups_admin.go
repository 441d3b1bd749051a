package vcluster

import "github.com/twmb/franz-go/pkg/kmsg"

// The classic group administration APIs.

func init() {
	register(15, rule{ // DescribeGroups
		maxVersion: 6,
		request: gRequest(func(x *Exchange, r *kmsg.DescribeGroupsRequest) {
			gGroups(x.Space, r.Groups)
		}),
		response: gResponse(func(x *Exchange, r *kmsg.DescribeGroupsResponse) {
			r.Groups = retain(r.Groups, func(g *kmsg.DescribeGroupsResponseGroup) bool {
				x.Space.Scrub(g.ErrorMessage)
				if g.ProtocolType == gConsumerProtocol {
					for i := range g.Members {
						m := &g.Members[i]
						m.ProtocolMetadata = gMetadata(m.ProtocolMetadata, x.logicalTopic)
						m.MemberAssignment = gAssignment(m.MemberAssignment, x.logicalTopic)
					}
				}
				return gRename(&g.Group, x.Space.gEcho)
			})
		}),
	})
	register(16, rule{ // ListGroups: the request only filters by state and type.
		maxVersion: 5,
		response: gResponse(func(x *Exchange, r *kmsg.ListGroupsResponse) {
			r.Groups = retain(r.Groups, func(g *kmsg.ListGroupsResponseGroup) bool {
				return gRename(&g.Group, x.Space.LogicalGroup)
			})
		}),
	})
	register(42, rule{ // DeleteGroups
		maxVersion: 3,
		request: gRequest(func(x *Exchange, r *kmsg.DeleteGroupsRequest) {
			gGroups(x.Space, r.Groups)
		}),
		response: gResponse(func(x *Exchange, r *kmsg.DeleteGroupsResponse) {
			r.Groups = retain(r.Groups, func(g *kmsg.DeleteGroupsResponseGroup) bool {
				x.Space.Scrub(g.ErrorMessage)
				return gRename(&g.Group, x.Space.gEcho)
			})
		}),
	})
}

// gGroups replaces logical group ids with physical ones in place.
func gGroups(s *Space, ids []string) {
	for i, id := range ids {
		ids[i] = s.Group(id)
	}
}
