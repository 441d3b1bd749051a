package identity

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/acl"
	"github.com/strait-gateway/strait/auth"
)

const (
	vcOpen     = `{"kind":"VirtualCluster","apiVersion":"gateway/v2","metadata":{"name":"open"}}`
	vcManaged  = `{"kind":"VirtualCluster","apiVersion":"gateway/v2","metadata":{"name":"managed"},"spec":{"aclEnabled":true,"superUsers":["root"]}}`
	vcDeclared = `{"kind":"VirtualCluster","apiVersion":"gateway/v2","metadata":{"name":"declared"},"spec":{"aclEnabled":true,"aclMode":"REST_API","acls":[
		{"resourcePattern":{"resourceType":"TOPIC","name":"pay-","patternType":"PREFIXED"},"principal":"User:app","operation":"READ","permissionType":"ALLOW"}]}}`
)

func TestAccessModes(t *testing.T) {
	id := testIdentity(t, Config{Protocol: SASLPlaintext}, vcOpen, vcManaged, vcDeclared)
	const ip = "10.1.1.1"
	if a := id.Access(auth.Principal{VCluster: "open", Username: "app"}, ip); a != nil {
		t.Fatal("a virtual cluster without aclEnabled must not enforce ACLs")
	}
	if a := id.Access(auth.Principal{VCluster: "passthrough", Username: "app"}, ip); a != nil {
		t.Fatal("passthrough must not enforce virtual cluster ACLs")
	}

	declared := id.Access(auth.Principal{VCluster: "declared", Username: "app"}, ip)
	if declared == nil || declared.Writable() {
		t.Fatal("REST_API mode: want read-only ACLs")
	}
	if !declared.Allowed(kmsg.ACLResourceTypeTopic, "pay-eu", kmsg.ACLOperationRead) ||
		declared.Allowed(kmsg.ACLResourceTypeTopic, "pay-eu", kmsg.ACLOperationWrite) {
		t.Fatal("declared ACLs not applied as written")
	}
	if err := declared.Update(context.Background(), []acl.Binding{{}}, nil); err == nil {
		t.Fatal("REST_API mode accepted an update through Kafka")
	}

	managed := id.Access(auth.Principal{VCluster: "managed", Username: "app"}, ip)
	root := id.Access(auth.Principal{VCluster: "managed", Username: "root"}, ip)
	if !managed.Writable() || managed.Allowed(kmsg.ACLResourceTypeTopic, "t", kmsg.ACLOperationRead) {
		t.Fatal("KAFKA_API mode starts writable and empty")
	}
	if !root.Allowed(kmsg.ACLResourceTypeCluster, acl.ClusterName, kmsg.ACLOperationAlter) {
		t.Fatal("a super user must bypass ACLs")
	}
	b := acl.Binding{ResourceType: kmsg.ACLResourceTypeTopic, Name: "t", PatternType: kmsg.ACLResourcePatternTypeLiteral,
		Principal: "User:app", Host: ip, Operation: kmsg.ACLOperationRead, Permission: kmsg.ACLPermissionTypeAllow}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := root.Update(ctx, []acl.Binding{b}, nil); err != nil {
		t.Fatal(err)
	}
	// Read your own write: the binding is in force when Update returns.
	if !managed.Allowed(kmsg.ACLResourceTypeTopic, "t", kmsg.ACLOperationRead) {
		t.Fatal("stored ACL not in force")
	}
	if other := id.Access(auth.Principal{VCluster: "managed", Username: "app"}, "10.9.9.9"); other.Allowed(kmsg.ACLResourceTypeTopic, "t", kmsg.ACLOperationRead) {
		t.Fatal("the binding's host was ignored")
	}
	if got := managed.Bindings(); len(got) != 1 || got[0] != b {
		t.Fatalf("bindings %v", got)
	}
	if err := root.Update(ctx, nil, []acl.Binding{b}); err != nil {
		t.Fatal(err)
	}
	if managed.Allowed(kmsg.ACLResourceTypeTopic, "t", kmsg.ACLOperationRead) || len(managed.Bindings()) != 0 {
		t.Fatal("deleted ACL still in force")
	}
}

func TestDecodeSecretACL(t *testing.T) {
	b := acl.Binding{ResourceType: kmsg.ACLResourceTypeGroup, Name: "g", PatternType: kmsg.ACLResourcePatternTypeLiteral,
		Principal: "User:a", Host: "*", Operation: kmsg.ACLOperationRead, Permission: kmsg.ACLPermissionTypeAllow}
	s, err := decodeSecret(aclKey("vc", b), []byte(`{}`))
	if err != nil || s.acl == nil || s.acl.Binding != b || s.acl.VCluster != "vc" {
		t.Fatalf("valid ACL record: %+v %v", s, err)
	}
	for _, tc := range []struct{ name, key, value string }{
		{"no vCluster", `{"acl":` + string(mustJSON(t, b)) + `,"kind":"Acl"}`, `{}`},
		{"invalid binding", `{"acl":{"resourcePattern":{"resourceType":"TOPIC","name":"","patternType":"LITERAL"},"principal":"User:a","host":"*","operation":"READ","permissionType":"ALLOW"},"kind":"Acl","vCluster":"vc"}`, `{}`},
		{"value not an object", string(aclKey("vc", b)), `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeSecret([]byte(tc.key), []byte(tc.value)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func mustJSON(t *testing.T, b acl.Binding) []byte {
	t.Helper()
	out, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
