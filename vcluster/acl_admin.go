package vcluster

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/acl"
)

// The ACL APIs never reach the backing cluster for a tenant: the gateway
// answers them from the virtual cluster's own ACLs, whose names are
// logical. Describing needs DESCRIBE on the cluster, creating and deleting
// ALTER, as in Kafka; a virtual cluster without ACLs answers
// SECURITY_DISABLED, like a broker without an authorizer.

// aclUpdateTimeout bounds waiting for an ACL change to be stored.
const aclUpdateTimeout = 10 * time.Second

func init() {
	register(29, rule{maxVersion: 3, request: gRequest(aDescribeACLs)})
	register(30, rule{maxVersion: 3, request: gRequest(aCreateACLs)})
	register(31, rule{maxVersion: 3, request: gRequest(aDeleteACLs)})
	guardKey(29, aClusterGuard(kmsg.ACLOperationDescribe, func(r *kmsg.DescribeACLsRequest, code int16) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
		resp.ErrorCode = code
		return resp
	}))
	guardKey(30, aClusterGuard(kmsg.ACLOperationAlter, func(r *kmsg.CreateACLsRequest, code int16) kmsg.Response {
		return aCreateResults(r, func(int) (int16, string) { return code, "" })
	}))
	guardKey(31, aClusterGuard(kmsg.ACLOperationAlter, func(r *kmsg.DeleteACLsRequest, code int16) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
		for range r.Filters {
			res := kmsg.NewDeleteACLsResponseResult()
			res.ErrorCode = code
			resp.Results = append(resp.Results, res)
		}
		return resp
	}))
}

// aClusterGuard refuses a request unless the client may perform op on the
// cluster.
func aClusterGuard[Req kmsg.Request](op kmsg.ACLOperation, refuse func(Req, int16) kmsg.Response) guard {
	return aWhole(func(x *Exchange, r Req) kmsg.Response {
		if x.canCluster(op) {
			return nil
		}
		return refuse(r, kerr.ClusterAuthorizationFailed.Code)
	})
}

// aDisabled is the message of a virtual cluster without ACLs.
const aDisabled = "ACLs are not enabled in this virtual cluster."

func aDescribeACLs(x *Exchange, r *kmsg.DescribeACLsRequest) {
	resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
	x.Local = resp
	f := acl.FromDescribe(r)
	switch {
	case x.access == nil:
		resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, kmsg.StringPtr(aDisabled)
		return
	case !f.Valid():
		resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr("The filter names an unknown resource type, pattern type, operation or permission.")
		return
	}
	for _, b := range acl.NewSet(x.access.Bindings()).Select(f) {
		i := slices.IndexFunc(resp.Resources, func(res kmsg.DescribeACLsResponseResource) bool {
			return res.ResourceType == b.ResourceType && res.ResourceName == b.Name && res.ResourcePatternType == b.PatternType
		})
		if i < 0 {
			res := kmsg.NewDescribeACLsResponseResource()
			res.ResourceType, res.ResourceName, res.ResourcePatternType = b.ResourceType, b.Name, b.PatternType
			resp.Resources = append(resp.Resources, res)
			i = len(resp.Resources) - 1
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host, a.Operation, a.PermissionType = b.Principal, b.Host, b.Operation, b.Permission
		resp.Resources[i].ACLs = append(resp.Resources[i].ACLs, a)
	}
}

func aCreateACLs(x *Exchange, r *kmsg.CreateACLsRequest) {
	codes := make([]int16, len(r.Creations))
	msgs := make([]string, len(r.Creations))
	var add []acl.Binding
	for i, c := range r.Creations {
		b, err := acl.FromCreation(c)
		switch {
		case x.access == nil:
			codes[i], msgs[i] = kerr.SecurityDisabled.Code, aDisabled
		case !x.access.Writable():
			codes[i], msgs[i] = kerr.ClusterAuthorizationFailed.Code, aReadOnly
		case err != nil:
			codes[i], msgs[i] = kerr.InvalidRequest.Code, err.Error()
		default:
			add = append(add, b)
		}
	}
	if len(add) > 0 {
		if err := aUpdate(x.access, add, nil); err != nil {
			for i := range codes {
				if codes[i] == 0 {
					codes[i], msgs[i] = kerr.UnknownServerError.Code, err.Error()
				}
			}
		}
	}
	x.Local = aCreateResults(r, func(i int) (int16, string) { return codes[i], msgs[i] })
}

// aReadOnly is the message of a virtual cluster whose ACLs are part of its
// configuration.
const aReadOnly = "The ACLs of this virtual cluster are declared in its configuration (aclMode REST_API); change them through Strait's admin API."

// aCreateResults answers each creation of r with result(i).
func aCreateResults(r *kmsg.CreateACLsRequest, result func(i int) (int16, string)) *kmsg.CreateACLsResponse {
	resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
	for i := range r.Creations {
		res := kmsg.NewCreateACLsResponseResult()
		code, msg := result(i)
		res.ErrorCode = code
		if msg != "" {
			res.ErrorMessage = kmsg.StringPtr(msg)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp
}

func aDeleteACLs(x *Exchange, r *kmsg.DeleteACLsRequest) {
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	x.Local = resp
	var current *acl.Set
	if x.access != nil {
		current = acl.NewSet(x.access.Bindings())
	}
	var remove []acl.Binding
	for _, d := range r.Filters {
		res := kmsg.NewDeleteACLsResponseResult()
		f := acl.FromDeletion(d)
		switch {
		case x.access == nil:
			res.ErrorCode, res.ErrorMessage = kerr.SecurityDisabled.Code, kmsg.StringPtr(aDisabled)
		case !x.access.Writable():
			res.ErrorCode, res.ErrorMessage = kerr.ClusterAuthorizationFailed.Code, kmsg.StringPtr(aReadOnly)
		case !f.Valid():
			res.ErrorCode, res.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr("The filter names an unknown resource type, pattern type, operation or permission.")
		default:
			for _, b := range current.Select(f) {
				m := kmsg.NewDeleteACLsResponseResultMatchingACL()
				m.ResourceType, m.ResourceName, m.ResourcePatternType = b.ResourceType, b.Name, b.PatternType
				m.Principal, m.Host, m.Operation, m.PermissionType = b.Principal, b.Host, b.Operation, b.Permission
				res.MatchingACLs = append(res.MatchingACLs, m)
				if !slices.Contains(remove, b) {
					remove = append(remove, b)
				}
			}
		}
		resp.Results = append(resp.Results, res)
	}
	if len(remove) == 0 {
		return
	}
	if err := aUpdate(x.access, nil, remove); err != nil {
		for i := range resp.Results {
			res := &resp.Results[i]
			if res.ErrorCode == 0 {
				res.ErrorCode, res.ErrorMessage, res.MatchingACLs = kerr.UnknownServerError.Code, kmsg.StringPtr(err.Error()), nil
			}
		}
	}
}

// aUpdate stores an ACL change, waiting at most aclUpdateTimeout.
func aUpdate(a Access, add, remove []acl.Binding) error {
	ctx, cancel := context.WithTimeout(context.Background(), aclUpdateTimeout)
	defer cancel()
	return a.Update(ctx, add, remove)
}
