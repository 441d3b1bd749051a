package vcluster

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/acl"
)

// aclTestAccess allows what its bindings allow user "u" from "1.1.1.1",
// and stores updates in memory.
type aclTestAccess struct {
	bindings []acl.Binding
	readOnly bool
	fail     error
}

func (a *aclTestAccess) Allowed(rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) bool {
	return acl.NewSet(a.bindings).Allowed("u", "1.1.1.1", rt, name, op)
}

func (a *aclTestAccess) AllowedAny(rt kmsg.ACLResourceType, op kmsg.ACLOperation) bool {
	return acl.NewSet(a.bindings).AllowedAny("u", "1.1.1.1", rt, op)
}

func (a *aclTestAccess) Bindings() []acl.Binding { return a.bindings }
func (a *aclTestAccess) Writable() bool          { return !a.readOnly }

func (a *aclTestAccess) Update(_ context.Context, add, remove []acl.Binding) error {
	if a.fail != nil {
		return a.fail
	}
	a.bindings = slices.DeleteFunc(a.bindings, func(b acl.Binding) bool { return slices.Contains(remove, b) })
	a.bindings = append(a.bindings, add...)
	return nil
}

// aclTestAllow returns an ALLOW binding for user u on a literal resource.
func aclTestAllow(rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) acl.Binding {
	return acl.Binding{ResourceType: rt, Name: name, PatternType: kmsg.ACLResourcePatternTypeLiteral,
		Principal: "User:u", Host: "*", Operation: op, Permission: kmsg.ACLPermissionTypeAllow}
}

const (
	aclTestTopic = kmsg.ACLResourceTypeTopic
	aclTestGroup = kmsg.ACLResourceTypeGroup
	aclTestTxn   = kmsg.ACLResourceTypeTransactionalId
)

// aclTestRequest runs req through the tenant space with access a.
func aclTestRequest(t *testing.T, a Access, req kmsg.Request) *Exchange {
	t.Helper()
	x, err := topicsTestTenant.Request(req, a)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return x
}

func TestEveryTenantAPIHasAGuard(t *testing.T) {
	for key := range rules {
		if _, ok := guards[key]; !ok {
			t.Errorf("%s has a translation rule but no ACL guard", kmsg.NameForKey(key))
		}
	}
	for key := range guards {
		if _, ok := rules[key]; !ok {
			t.Errorf("%s has an ACL guard but no translation rule", kmsg.NameForKey(key))
		}
	}
}

func TestProduceRefusesTopicsWithoutWrite(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{aclTestAllow(aclTestTopic, "open", kmsg.ACLOperationWrite)}}
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	for _, name := range []string{"open", "closed"} {
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic = name
		tp.Partitions = []kmsg.ProduceRequestTopicPartition{{Partition: 0}, {Partition: 3}}
		req.Topics = append(req.Topics, tp)
	}
	x := aclTestRequest(t, a, req)
	if x.Local != nil || len(req.Topics) != 1 || req.Topics[0].Topic != "team-a.open" {
		t.Fatalf("forwarded %+v (local %v), want only team-a.open", req.Topics, x.Local)
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(9)
	rt := kmsg.NewProduceResponseTopic()
	rt.Topic = "team-a.open"
	rt.Partitions = []kmsg.ProduceResponseTopicPartition{{Partition: 0}, {Partition: 3}}
	resp.Topics = append(resp.Topics, rt)
	topicsTestResponse(t, x, resp)
	if len(resp.Topics) != 2 || resp.Topics[0].Topic != "open" || resp.Topics[1].Topic != "closed" {
		t.Fatalf("response topics %+v", resp.Topics)
	}
	for _, p := range resp.Topics[1].Partitions {
		if p.ErrorCode != kerr.TopicAuthorizationFailed.Code {
			t.Fatalf("refused partition %d has error %d", p.Partition, p.ErrorCode)
		}
	}
	if len(resp.Topics[1].Partitions) != 2 {
		t.Fatalf("refused topic answers %d partitions, want 2", len(resp.Topics[1].Partitions))
	}

	// A transactional producer also needs WRITE on its transactional id.
	txn := kmsg.NewPtrProduceRequest()
	txn.SetVersion(9)
	txn.TransactionID = kmsg.StringPtr("tx")
	txn.Topics = []kmsg.ProduceRequestTopic{{Topic: "open", Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 1}}}}
	x = aclTestRequest(t, a, txn)
	local, ok := x.Local.(*kmsg.ProduceResponse)
	if !ok || len(local.Topics) != 1 || local.Topics[0].Partitions[0].ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code {
		t.Fatalf("transactional produce without WRITE on the id answered %+v", x.Local)
	}
}

func TestFetchAllRefusedIsAnsweredLocally(t *testing.T) {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.Topics = []kmsg.FetchRequestTopic{{Topic: "secret", Partitions: []kmsg.FetchRequestTopicPartition{{Partition: 2}}}}
	x := aclTestRequest(t, &aclTestAccess{}, req)
	local, ok := x.Local.(*kmsg.FetchResponse)
	if !ok || len(local.Topics) != 1 || local.Topics[0].Topic != "secret" ||
		local.Topics[0].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("local answer %+v", x.Local)
	}
}

func TestMetadataShowsOnlyDescribableTopics(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{aclTestAllow(aclTestTopic, "seen", kmsg.ACLOperationRead)}}
	// A listing keeps what the client may describe.
	list := kmsg.NewPtrMetadataRequest()
	list.SetVersion(12)
	x := aclTestRequest(t, a, list)
	resp := kmsg.NewPtrMetadataResponse()
	resp.SetVersion(12)
	for _, name := range []string{"team-a.seen", "team-a.hidden", "team-b.seen"} {
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = kmsg.StringPtr(name)
		resp.Topics = append(resp.Topics, mt)
	}
	topicsTestResponse(t, x, resp)
	if len(resp.Topics) != 1 || *resp.Topics[0].Topic != "seen" {
		t.Fatalf("listing shows %d topics, want only seen", len(resp.Topics))
	}

	// Named topics the client may not describe are refused, the request
	// still goes on (for the brokers), and auto-creation is off.
	named := kmsg.NewPtrMetadataRequest()
	named.SetVersion(12)
	named.AllowAutoTopicCreation = true
	named.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("hidden")}, {Topic: kmsg.StringPtr("seen")}}
	x = aclTestRequest(t, a, named)
	if x.Local != nil || len(named.Topics) != 1 || *named.Topics[0].Topic != "team-a.seen" || named.AllowAutoTopicCreation {
		t.Fatalf("forwarded topics %v, auto-create %v", named.Topics, named.AllowAutoTopicCreation)
	}
	// Refusing every named topic must not turn the request into a listing.
	only := kmsg.NewPtrMetadataRequest()
	only.SetVersion(12)
	only.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("hidden")}}
	aclTestRequest(t, a, only)
	if only.Topics == nil || len(only.Topics) != 0 {
		t.Fatalf("forwarded %v (nil %v), want an empty list", only.Topics, only.Topics == nil)
	}
	resp = kmsg.NewPtrMetadataResponse()
	resp.SetVersion(12)
	topicsTestResponse(t, x, resp)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.TopicAuthorizationFailed.Code || *resp.Topics[0].Topic != "hidden" {
		t.Fatalf("answer for a refused topic: %+v", resp.Topics)
	}
}

func TestCreateTopicsWithClusterCreate(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{aclTestAllow(kmsg.ACLResourceTypeCluster, acl.ClusterName, kmsg.ACLOperationCreate)}}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(7)
	req.Topics = []kmsg.CreateTopicsRequestTopic{{Topic: "new", NumPartitions: 1, ReplicationFactor: 1}}
	x := aclTestRequest(t, a, req)
	if x.Local != nil || req.Topics[0].Topic != "team-a.new" {
		t.Fatalf("CREATE on the cluster should allow any topic: %+v", req.Topics)
	}
	req.Topics = []kmsg.CreateTopicsRequestTopic{{Topic: "new", NumPartitions: 1, ReplicationFactor: 1}}
	x = aclTestRequest(t, &aclTestAccess{}, req)
	local, ok := x.Local.(*kmsg.CreateTopicsResponse)
	if !ok || len(local.Topics) != 1 || local.Topics[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("create without CREATE answered %+v", x.Local)
	}
}

func TestGroupMembershipNeedsRead(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{aclTestAllow(aclTestGroup, "mine", kmsg.ACLOperationRead)}}
	for _, tc := range []struct {
		group string
		code  int16
	}{{"mine", 0}, {"theirs", kerr.GroupAuthorizationFailed.Code}} {
		join := kmsg.NewPtrJoinGroupRequest()
		join.SetVersion(9)
		join.Group = tc.group
		x := aclTestRequest(t, a, join)
		switch {
		case tc.code == 0 && (x.Local != nil || join.Group != "team-a.mine"):
			t.Fatalf("join of an allowed group: local %v, group %s", x.Local, join.Group)
		case tc.code != 0:
			if r, ok := x.Local.(*kmsg.JoinGroupResponse); !ok || r.ErrorCode != tc.code {
				t.Fatalf("join of %s answered %+v", tc.group, x.Local)
			}
		}
	}
}

func TestOffsetsNeedGroupAndTopic(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{
		aclTestAllow(aclTestGroup, "g", kmsg.ACLOperationRead),
		aclTestAllow(aclTestTopic, "t", kmsg.ACLOperationRead),
	}}
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.SetVersion(8)
	commit.Group = "g"
	commit.Topics = []kmsg.OffsetCommitRequestTopic{
		{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0}}},
		{Topic: "u", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0}}},
	}
	x := aclTestRequest(t, a, commit)
	if len(commit.Topics) != 1 || commit.Topics[0].Topic != "team-a.t" {
		t.Fatalf("commit forwards %+v", commit.Topics)
	}
	resp := kmsg.NewPtrOffsetCommitResponse()
	resp.SetVersion(8)
	topicsTestResponse(t, x, resp)
	if len(resp.Topics) != 1 || resp.Topics[0].Topic != "u" || resp.Topics[0].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("commit answers %+v", resp.Topics)
	}

	// OffsetFetch v8: groups are refused one by one, topics the client may
	// not describe are left out.
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.SetVersion(8)
	fetch.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g"}, {Group: "h"}}
	x = aclTestRequest(t, a, fetch)
	if len(fetch.Groups) != 1 || fetch.Groups[0].Group != "team-a.g" {
		t.Fatalf("offset fetch forwards %+v", fetch.Groups)
	}
	fresp := kmsg.NewPtrOffsetFetchResponse()
	fresp.SetVersion(8)
	fg := kmsg.NewOffsetFetchResponseGroup()
	fg.Group = "team-a.g"
	fg.Topics = []kmsg.OffsetFetchResponseGroupTopic{{Topic: "team-a.t"}, {Topic: "team-a.u"}}
	fresp.Groups = append(fresp.Groups, fg)
	topicsTestResponse(t, x, fresp)
	if len(fresp.Groups) != 2 || len(fresp.Groups[0].Topics) != 1 || fresp.Groups[0].Topics[0].Topic != "t" ||
		fresp.Groups[1].Group != "h" || fresp.Groups[1].ErrorCode != kerr.GroupAuthorizationFailed.Code {
		t.Fatalf("offset fetch answers %+v", fresp.Groups)
	}
}

func TestFindCoordinatorPerKey(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{aclTestAllow(aclTestTxn, "tx", kmsg.ACLOperationWrite)}}
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.SetVersion(4)
	req.CoordinatorType = 1
	req.CoordinatorKeys = []string{"tx", "other"}
	x := aclTestRequest(t, a, req)
	if len(req.CoordinatorKeys) != 1 || req.CoordinatorKeys[0] != "team-a.tx" {
		t.Fatalf("forwards keys %v", req.CoordinatorKeys)
	}
	resp := kmsg.NewPtrFindCoordinatorResponse()
	resp.SetVersion(4)
	topicsTestResponse(t, x, resp)
	if len(resp.Coordinators) != 1 || resp.Coordinators[0].Key != "other" || resp.Coordinators[0].ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code {
		t.Fatalf("answers %+v", resp.Coordinators)
	}
}

func TestIdempotentProducerNeedsWriteSomewhere(t *testing.T) {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(4)
	x := aclTestRequest(t, &aclTestAccess{}, req)
	if r, ok := x.Local.(*kmsg.InitProducerIDResponse); !ok || r.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("idempotent producer without rights answered %+v", x.Local)
	}
	req = kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(4)
	x = aclTestRequest(t, &aclTestAccess{bindings: []acl.Binding{aclTestAllow(aclTestTopic, "t", kmsg.ACLOperationWrite)}}, req)
	if x.Local != nil {
		t.Fatalf("WRITE on a topic should allow an idempotent producer: %+v", x.Local)
	}
}

func TestAddPartitionsToTxnIsAllOrNothing(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{
		aclTestAllow(aclTestTxn, "tx", kmsg.ACLOperationWrite),
		aclTestAllow(aclTestTopic, "t", kmsg.ACLOperationWrite),
	}}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(3)
	req.TransactionalID = "tx"
	req.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "t", Partitions: []int32{0}}, {Topic: "u", Partitions: []int32{1}}}
	x := aclTestRequest(t, a, req)
	local, ok := x.Local.(*kmsg.AddPartitionsToTxnResponse)
	if !ok || len(local.Topics) != 2 ||
		local.Topics[0].Partitions[0].ErrorCode != kerr.OperationNotAttempted.Code ||
		local.Topics[1].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("answered %+v", x.Local)
	}
}

func TestListingsKeepWhatTheClientMayDescribe(t *testing.T) {
	a := &aclTestAccess{bindings: []acl.Binding{
		aclTestAllow(aclTestGroup, "g", kmsg.ACLOperationDescribe),
		aclTestAllow(aclTestTxn, "tx", kmsg.ACLOperationWrite),
	}}
	x := aclTestRequest(t, a, kmsg.NewPtrListGroupsRequest())
	groups := kmsg.NewPtrListGroupsResponse()
	groups.Groups = []kmsg.ListGroupsResponseGroup{{Group: "team-a.g"}, {Group: "team-a.h"}}
	topicsTestResponse(t, x, groups)
	if len(groups.Groups) != 1 || groups.Groups[0].Group != "g" {
		t.Fatalf("groups listed %+v", groups.Groups)
	}
	x = aclTestRequest(t, a, kmsg.NewPtrListTransactionsRequest())
	txns := kmsg.NewPtrListTransactionsResponse()
	txns.TransactionStates = []kmsg.ListTransactionsResponseTransactionState{{TransactionalID: "team-a.tx"}, {TransactionalID: "team-a.ty"}}
	topicsTestResponse(t, x, txns)
	if len(txns.TransactionStates) != 1 || txns.TransactionStates[0].TransactionalID != "tx" {
		t.Fatalf("transactions listed %+v", txns.TransactionStates)
	}
}

func TestACLAPIs(t *testing.T) {
	admin := aclTestAllow(kmsg.ACLResourceTypeCluster, acl.ClusterName, kmsg.ACLOperationAlter)
	a := &aclTestAccess{bindings: []acl.Binding{admin}}

	create := kmsg.NewPtrCreateACLsRequest()
	create.SetVersion(2)
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = aclTestTopic, "orders", kmsg.ACLResourcePatternTypePrefixed
	c.Principal, c.Host, c.Operation, c.PermissionType = "User:reader", "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
	bad := c
	bad.Principal = "reader"
	create.Creations = []kmsg.CreateACLsRequestCreation{c, bad}
	x := aclTestRequest(t, a, create)
	cr, ok := x.Local.(*kmsg.CreateACLsResponse)
	if !ok || len(cr.Results) != 2 || cr.Results[0].ErrorCode != 0 || cr.Results[1].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("create answered %+v", x.Local)
	}
	if len(a.bindings) != 2 {
		t.Fatalf("stored %d bindings, want 2", len(a.bindings))
	}

	describe := kmsg.NewPtrDescribeACLsRequest()
	describe.SetVersion(2)
	describe.ResourceType, describe.ResourcePatternType = aclTestTopic, kmsg.ACLResourcePatternTypeAny
	describe.Operation, describe.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	x = aclTestRequest(t, a, describe)
	dr, ok := x.Local.(*kmsg.DescribeACLsResponse)
	if !ok || dr.ErrorCode != 0 || len(dr.Resources) != 1 || dr.Resources[0].ResourceName != "orders" || dr.Resources[0].ACLs[0].Principal != "User:reader" {
		t.Fatalf("describe answered %+v", x.Local)
	}

	del := kmsg.NewPtrDeleteACLsRequest()
	del.SetVersion(2)
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType, f.ResourcePatternType = aclTestTopic, kmsg.ACLResourcePatternTypeMatch
	f.ResourceName = kmsg.StringPtr("orders-eu")
	f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	del.Filters = []kmsg.DeleteACLsRequestFilter{f}
	x = aclTestRequest(t, a, del)
	delr, ok := x.Local.(*kmsg.DeleteACLsResponse)
	if !ok || len(delr.Results) != 1 || len(delr.Results[0].MatchingACLs) != 1 || len(a.bindings) != 1 {
		t.Fatalf("delete answered %+v, left %d bindings", x.Local, len(a.bindings))
	}

	// Without ALTER on the cluster, nothing changes.
	x = aclTestRequest(t, &aclTestAccess{}, create)
	if cr, ok := x.Local.(*kmsg.CreateACLsResponse); !ok || cr.Results[0].ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("create without ALTER answered %+v", x.Local)
	}
	// Declared ACLs cannot be changed through Kafka.
	x = aclTestRequest(t, &aclTestAccess{bindings: []acl.Binding{admin}, readOnly: true}, create)
	if cr, ok := x.Local.(*kmsg.CreateACLsResponse); !ok || cr.Results[0].ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("create in REST_API mode answered %+v", x.Local)
	}
	// A failed store reports the error instead of success.
	x = aclTestRequest(t, &aclTestAccess{bindings: []acl.Binding{admin}, fail: errors.New("broker down")}, create)
	if cr, ok := x.Local.(*kmsg.CreateACLsResponse); !ok || cr.Results[0].ErrorCode != kerr.UnknownServerError.Code {
		t.Fatalf("create with a failing store answered %+v", x.Local)
	}
	// A virtual cluster without ACLs answers like a broker without an
	// authorizer.
	x = aclTestRequest(t, nil, describe)
	if dr, ok := x.Local.(*kmsg.DescribeACLsResponse); !ok || dr.ErrorCode != kerr.SecurityDisabled.Code {
		t.Fatalf("describe without ACLs answered %+v", x.Local)
	}
}
