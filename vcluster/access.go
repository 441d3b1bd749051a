package vcluster

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/acl"
)

// Access is what one client may do inside its virtual cluster when the
// virtual cluster enforces ACLs. Resources are named logically; a nil
// Access allows everything.
//
// Every API key a tenant can use has a guard (files acl_*.go) that asks
// Access about each resource the request names before it is translated,
// answers what is refused with Kafka's authorization errors, and keeps
// listings to what the client may describe. A key without a guard is not
// available to tenants whose virtual cluster enforces ACLs.
type Access interface {
	// Allowed reports whether the client may perform op on a resource.
	Allowed(rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) bool
	// AllowedAny reports whether the client may perform op on at least
	// one resource of the type.
	AllowedAny(rt kmsg.ACLResourceType, op kmsg.ACLOperation) bool
	// Bindings returns the virtual cluster's ACLs.
	Bindings() []acl.Binding
	// Writable reports whether the virtual cluster's ACLs are managed
	// through Kafka's ACL APIs rather than its configuration.
	Writable() bool
	// Update adds and removes ACLs of the virtual cluster and returns once
	// they are in force.
	Update(ctx context.Context, add, remove []acl.Binding) error
}

// guard authorizes one API key's requests for a tenant.
type guard struct {
	// request removes from req what the client may not do, keeping the
	// answers for the response half, and reports whether anything is left
	// to forward. It may set x.Local to refuse the whole request.
	request func(x *Exchange, req kmsg.Request) bool
	// response adds the answers for what was removed and drops from
	// listings what the client may not describe; nil when there is
	// nothing to do.
	response func(x *Exchange, resp kmsg.Response)
}

var guards = map[int16]guard{}

// guardKey installs the guard of an API key; called from init functions.
func guardKey(key int16, g guard) {
	if _, dup := guards[key]; dup {
		panic("vcluster: two guards for API key " + kmsg.NameForKey(key))
	}
	guards[key] = g
}

// authorize runs the request's guard. It reports false when the request
// is answered locally (x.Local).
func (x *Exchange) authorize(req kmsg.Request) (forward bool, err error) {
	g, ok := guards[req.Key()]
	if !ok {
		return false, ErrUnavailable
	}
	if g.request(x, req) {
		return true, nil
	}
	if x.Local == nil {
		x.Local = req.ResponseKind()
		if g.response != nil {
			g.response(x, x.Local)
		}
	}
	return false, nil
}

// can asks the client's access about a resource.
func (x *Exchange) can(rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) bool {
	return x.access == nil || x.access.Allowed(rt, name, op)
}

// canTopic, canGroup and canTxn ask about the three named resource types.
func (x *Exchange) canTopic(name string, op kmsg.ACLOperation) bool {
	return x.can(kmsg.ACLResourceTypeTopic, name, op)
}

func (x *Exchange) canGroup(name string, op kmsg.ACLOperation) bool {
	return x.can(kmsg.ACLResourceTypeGroup, name, op)
}

func (x *Exchange) canTxn(name string, op kmsg.ACLOperation) bool {
	return x.can(kmsg.ACLResourceTypeTransactionalId, name, op)
}

// canCluster asks about the virtual cluster itself.
func (x *Exchange) canCluster(op kmsg.ACLOperation) bool {
	return x.can(kmsg.ACLResourceTypeCluster, acl.ClusterName, op)
}

// aRefused holds the answers for what a guard removed from a request,
// until its response half appends them.
type aRefused[T any] []T

// aKeep leaves a guard's answers for its response half.
func aKeep[T any](x *Exchange, refused []T) { x.refused = aRefused[T](refused) }

// aAnswers returns the answers a guard left.
func aAnswers[T any](x *Exchange) []T {
	r, _ := x.refused.(aRefused[T])
	return r
}
