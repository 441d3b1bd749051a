package acl

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	topic   = kmsg.ACLResourceTypeTopic
	group   = kmsg.ACLResourceTypeGroup
	cluster = kmsg.ACLResourceTypeCluster
	literal = kmsg.ACLResourcePatternTypeLiteral
	prefix  = kmsg.ACLResourcePatternTypePrefixed
	allow   = kmsg.ACLPermissionTypeAllow
	deny    = kmsg.ACLPermissionTypeDeny
)

func bind(rt kmsg.ACLResourceType, name string, pt kmsg.ACLResourcePatternType, principal, host string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) Binding {
	return Binding{ResourceType: rt, Name: name, PatternType: pt, Principal: principal, Host: host, Operation: op, Permission: perm}
}

func TestAllowed(t *testing.T) {
	set := NewSet([]Binding{
		bind(topic, "orders", literal, "User:alice", "*", kmsg.ACLOperationRead, allow),
		bind(topic, "pay-", prefix, "User:alice", "*", kmsg.ACLOperationWrite, allow),
		bind(topic, "pay-secret", literal, "User:alice", "*", kmsg.ACLOperationAll, deny),
		bind(topic, "*", literal, "User:*", "*", kmsg.ACLOperationDescribe, allow),
		bind(topic, "audit", literal, "User:*", "*", kmsg.ACLOperationDescribe, deny),
		bind(group, "app", literal, "User:bob", "10.0.0.1", kmsg.ACLOperationRead, allow),
		bind(topic, "cfg", literal, "User:bob", "*", kmsg.ACLOperationAlterConfigs, allow),
		bind(cluster, ClusterName, literal, "User:ops", "*", kmsg.ACLOperationAll, allow),
	})
	for _, tc := range []struct {
		name  string
		user  string
		host  string
		rt    kmsg.ACLResourceType
		res   string
		op    kmsg.ACLOperation
		allow bool
	}{
		{"literal allow", "alice", "1.2.3.4", topic, "orders", kmsg.ACLOperationRead, true},
		{"other operation", "alice", "1.2.3.4", topic, "orders", kmsg.ACLOperationWrite, false},
		{"other user", "bob", "1.2.3.4", topic, "orders", kmsg.ACLOperationRead, false},
		{"prefixed allow", "alice", "1.2.3.4", topic, "pay-in", kmsg.ACLOperationWrite, true},
		{"prefix is not a match of a shorter name", "alice", "1.2.3.4", topic, "pay", kmsg.ACLOperationWrite, false},
		{"deny ALL beats prefixed allow", "alice", "1.2.3.4", topic, "pay-secret", kmsg.ACLOperationWrite, false},
		{"write implies describe", "alice", "1.2.3.4", topic, "pay-in", kmsg.ACLOperationDescribe, true},
		{"wildcard principal and name", "carol", "1.2.3.4", topic, "anything", kmsg.ACLOperationDescribe, true},
		{"describe does not imply read", "carol", "1.2.3.4", topic, "anything", kmsg.ACLOperationRead, false},
		{"deny of describe for everyone", "alice", "1.2.3.4", topic, "audit", kmsg.ACLOperationDescribe, false},
		{"deny of describe leaves read alone", "alice", "1.2.3.4", topic, "orders", kmsg.ACLOperationRead, true},
		{"host must match", "bob", "10.0.0.2", group, "app", kmsg.ACLOperationRead, false},
		{"host matches", "bob", "10.0.0.1", group, "app", kmsg.ACLOperationRead, true},
		{"alter configs implies describe configs", "bob", "1.2.3.4", topic, "cfg", kmsg.ACLOperationDescribeConfigs, true},
		{"resource type must match", "alice", "1.2.3.4", group, "orders", kmsg.ACLOperationRead, false},
		{"cluster ALL", "ops", "1.2.3.4", cluster, ClusterName, kmsg.ACLOperationAlter, true},
		{"nothing for strangers", "mallory", "1.2.3.4", group, "app", kmsg.ACLOperationRead, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := set.Allowed(tc.user, tc.host, tc.rt, tc.res, tc.op); got != tc.allow {
				t.Fatalf("Allowed(%s@%s, %s %s, %s) = %v, want %v", tc.user, tc.host, tc.rt, tc.res, tc.op, got, tc.allow)
			}
		})
	}
	var none *Set
	if none.Allowed("alice", "1.2.3.4", topic, "orders", kmsg.ACLOperationRead) {
		t.Fatal("a nil set allowed a request")
	}
}

func TestAllowedAny(t *testing.T) {
	writer := NewSet([]Binding{bind(topic, "a-", prefix, "User:p", "*", kmsg.ACLOperationWrite, allow)})
	if !writer.AllowedAny("p", "h", topic, kmsg.ACLOperationWrite) {
		t.Fatal("WRITE on a prefix should count as WRITE on some topic")
	}
	if writer.AllowedAny("q", "h", topic, kmsg.ACLOperationWrite) {
		t.Fatal("another user was granted WRITE")
	}
	denied := NewSet([]Binding{
		bind(topic, "a-", prefix, "User:p", "*", kmsg.ACLOperationWrite, allow),
		bind(topic, "*", literal, "User:p", "*", kmsg.ACLOperationWrite, deny),
	})
	if denied.AllowedAny("p", "h", topic, kmsg.ACLOperationWrite) {
		t.Fatal("a DENY on every topic must win")
	}
}

func TestFilterMatches(t *testing.T) {
	name := func(s string) *string { return &s }
	any := Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}
	lit := bind(topic, "orders", literal, "User:a", "*", kmsg.ACLOperationRead, allow)
	wild := bind(topic, "*", literal, "User:a", "*", kmsg.ACLOperationRead, allow)
	pre := bind(topic, "ord", prefix, "User:a", "*", kmsg.ACLOperationRead, allow)
	with := func(f func(*Filter)) Filter { c := any; f(&c); return c }
	for _, tc := range []struct {
		name string
		f    Filter
		b    Binding
		want bool
	}{
		{"any matches", any, lit, true},
		{"resource type", with(func(f *Filter) { f.ResourceType = group }), lit, false},
		{"literal name", with(func(f *Filter) { f.PatternType = literal; f.Name = name("orders") }), lit, true},
		{"literal filter skips prefixed", with(func(f *Filter) { f.PatternType = literal; f.Name = name("ord") }), pre, false},
		{"match takes wildcard", with(func(f *Filter) { f.PatternType = kmsg.ACLResourcePatternTypeMatch; f.Name = name("orders") }), wild, true},
		{"match takes prefix", with(func(f *Filter) { f.PatternType = kmsg.ACLResourcePatternTypeMatch; f.Name = name("orders") }), pre, true},
		{"match skips other literal", with(func(f *Filter) { f.PatternType = kmsg.ACLResourcePatternTypeMatch; f.Name = name("ord") }), lit, false},
		{"any pattern compares names", with(func(f *Filter) { f.Name = name("ord") }), pre, true},
		{"principal", with(func(f *Filter) { f.Principal = name("User:b") }), lit, false},
		{"host", with(func(f *Filter) { f.Host = name("*") }), lit, true},
		{"operation", with(func(f *Filter) { f.Operation = kmsg.ACLOperationWrite }), lit, false},
		{"permission", with(func(f *Filter) { f.Permission = deny }), lit, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Matches(tc.b); got != tc.want {
				t.Fatalf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}
