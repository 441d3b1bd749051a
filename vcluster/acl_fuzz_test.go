package vcluster

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/acl"
)

// FuzzGuardedRequest decodes arbitrary requests of every API a tenant may
// use, runs them through the ACL guards and the translation, and answers
// them with an empty response: nothing may panic, a refused request must
// be answered, and what is forwarded must encode at its version.
func FuzzGuardedRequest(f *testing.F) {
	keys := slices.Sorted(func(yield func(int16) bool) {
		for k := range guards {
			if !yield(k) {
				return
			}
		}
	})
	produce := kmsg.NewPtrProduceRequest()
	produce.SetVersion(9)
	produce.Topics = []kmsg.ProduceRequestTopic{{Topic: "open", Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 1}}}, {Topic: "closed"}}
	meta := kmsg.NewPtrMetadataRequest()
	meta.SetVersion(12)
	meta.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("closed")}}
	for _, req := range []kmsg.Request{produce, meta} {
		f.Add(req.AppendTo(nil), req.GetVersion(), uint8(slices.Index(keys, req.Key())), true)
	}
	access := &aclTestAccess{bindings: []acl.Binding{
		aclTestAllow(aclTestTopic, "open", kmsg.ACLOperationAll),
		aclTestAllow(aclTestGroup, "g", kmsg.ACLOperationRead),
		aclTestAllow(aclTestTxn, "tx", kmsg.ACLOperationWrite),
	}}
	f.Fuzz(func(t *testing.T, wire []byte, version int16, which uint8, restricted bool) {
		s := New("team-a", nil)
		req := kmsg.RequestForKey(keys[int(which)%len(keys)])
		req.SetVersion(min(max(version, 0), s.MaxVersion(req.Key())))
		if req.ReadFrom(wire) != nil {
			return
		}
		var a Access
		if restricted {
			a = &aclTestAccess{bindings: access.bindings}
		}
		x, err := s.Request(req, a)
		if err != nil {
			t.Fatal(err)
		}
		if x.Local != nil {
			x.Local.SetVersion(req.GetVersion())
			_ = x.Local.AppendTo(nil)
			return
		}
		again := kmsg.RequestForKey(req.Key())
		again.SetVersion(req.GetVersion())
		if err := again.ReadFrom(req.AppendTo(nil)); err != nil {
			t.Fatalf("forwarded %s does not decode: %v", kmsg.NameForKey(req.Key()), err)
		}
		resp := req.ResponseKind()
		if err := x.Response(resp); err != nil {
			t.Fatal(err)
		}
		_ = resp.AppendTo(nil)
	})
}
