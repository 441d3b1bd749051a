// Consumer groups and transactional ids follow the naming scheme of topics:
// a tenant's group or transactional id is stored on the backing cluster as
// the virtual cluster's name, a dot, and the logical id, so two tenants may
// use the same id without meeting. Requests name only ids of their own
// space, so another tenant's group or transaction looks exactly like one
// that does not exist, and listings keep only the space's ids. An empty
// logical id becomes the bare prefix; the broker judges every id as it
// would any other.

package vcluster

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(10, rule{ // FindCoordinator
		maxVersion: 6,
		request: gRequest(func(x *Exchange, r *kmsg.FindCoordinatorRequest) {
			if r.Version < 4 {
				r.CoordinatorKey = gCoordinatorKey(x.Space, r.CoordinatorType, r.CoordinatorKey)
			}
			for i, k := range r.CoordinatorKeys {
				r.CoordinatorKeys[i] = gCoordinatorKey(x.Space, r.CoordinatorType, k)
			}
		}),
		response: gResponse(func(x *Exchange, r *kmsg.FindCoordinatorResponse) {
			x.Space.Scrub(r.ErrorMessage)
			r.Coordinators = retain(r.Coordinators, func(c *kmsg.FindCoordinatorResponseCoordinator) bool {
				x.Space.Scrub(c.ErrorMessage)
				return gRename(&c.Key, x.Space.gEcho)
			})
		}),
	})
}

// gCoordinatorKey returns the physical form of a coordinator key: a
// transactional id for key type 1, a group id for groups (0), share groups
// (2) and any type the broker will refuse anyway.
func gCoordinatorKey(s *Space, keyType int8, key string) string {
	if keyType == 1 {
		return s.TransactionalID(key)
	}
	return s.Group(key)
}

// gEcho maps back a group or transactional id the request named. Unlike
// LogicalGroup it accepts the bare prefix, the physical form of an empty
// id, so the broker's answer about an empty id reaches the client.
func (s *Space) gEcho(physical string) (string, bool) {
	return strings.CutPrefix(physical, s.prefix)
}

// gRequest adapts a typed request half that cannot fail to a rule.
func gRequest[T kmsg.Request](f func(*Exchange, T)) func(*Exchange, kmsg.Request) error {
	return func(x *Exchange, req kmsg.Request) error {
		r, ok := req.(T)
		if !ok {
			return fmt.Errorf("vcluster: unexpected %T for API key %d", req, req.Key())
		}
		f(x, r)
		return nil
	}
}

// gResponse adapts a typed response half that cannot fail to a rule.
func gResponse[T kmsg.Response](f func(*Exchange, T)) func(*Exchange, kmsg.Response) error {
	return func(x *Exchange, resp kmsg.Response) error {
		r, ok := resp.(T)
		if !ok {
			return fmt.Errorf("vcluster: unexpected %T for API key %d", resp, resp.Key())
		}
		f(x, r)
		return nil
	}
}

// gRename replaces *name with its translation and reports whether the
// translation exists.
func gRename(name *string, translate func(string) (string, bool)) bool {
	var ok bool
	*name, ok = translate(*name)
	return ok
}

// gNames translates a list of names, dropping those without a translation.
func gNames(names []string, translate func(string) (string, bool)) []string {
	return retain(names, func(n *string) bool { return gRename(n, translate) })
}

// gPhysicalTopic is the request direction of a topic translation, in the
// form gNames and the embedded consumer protocol take.
func gPhysicalTopic(x *Exchange) func(string) (string, bool) {
	return func(logical string) (string, bool) { return x.topic(logical), true }
}
