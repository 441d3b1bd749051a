package acl

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestBindingJSON(t *testing.T) {
	in := `{"resourcePattern":{"resourceType":"TOPIC","name":"pay-","patternType":"PREFIXED"},"principal":"User:alice","operation":"WRITE","permissionType":"ALLOW"}`
	var b Binding
	if err := json.Unmarshal([]byte(in), &b); err != nil {
		t.Fatal(err)
	}
	want := bind(topic, "pay-", prefix, "User:alice", "*", kmsg.ACLOperationWrite, allow)
	if b != want {
		t.Fatalf("decoded %v, want %v", b, want)
	}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var again Binding
	if err := json.Unmarshal(out, &again); err != nil || again != b {
		t.Fatalf("round trip of %s gave %v, %v", out, again, err)
	}
}

func TestBindingValidate(t *testing.T) {
	good := bind(topic, "t", literal, "User:a", "*", kmsg.ACLOperationRead, allow)
	for _, tc := range []struct {
		name   string
		change func(*Binding)
		want   string
	}{
		{"empty name", func(b *Binding) { b.Name = "" }, "without a resource name"},
		{"cluster name", func(b *Binding) { b.ResourceType = cluster }, "kafka-cluster"},
		{"any resource", func(b *Binding) { b.ResourceType = kmsg.ACLResourceTypeAny }, "cannot be bound"},
		{"match pattern", func(b *Binding) { b.PatternType = kmsg.ACLResourcePatternTypeMatch }, "LITERAL or PREFIXED"},
		{"prefixed wildcard", func(b *Binding) { b.PatternType = prefix; b.Name = "*" }, "wildcard"},
		{"principal type", func(b *Binding) { b.Principal = "Group:a" }, "User:<name>"},
		{"empty user", func(b *Binding) { b.Principal = "User:" }, "User:<name>"},
		{"host", func(b *Binding) { b.Host = "example.com" }, "IP address"},
		{"operation any", func(b *Binding) { b.Operation = kmsg.ACLOperationAny }, "operation"},
		{"permission any", func(b *Binding) { b.Permission = kmsg.ACLPermissionTypeAny }, "ALLOW or DENY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := good
			tc.change(&b)
			err := b.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error about %q", err, tc.want)
			}
		})
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzBindingJSON(f *testing.F) {
	f.Add([]byte(`{"resourcePattern":{"resourceType":"TOPIC","name":"t","patternType":"LITERAL"},"principal":"User:a","host":"*","operation":"READ","permissionType":"ALLOW"}`))
	f.Add([]byte(`{"resourcePattern":{"resourceType":"CLUSTER","name":"kafka-cluster"},"principal":"User:*","host":"::1","operation":"ALL","permissionType":"DENY"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Binding
		if err := json.Unmarshal(data, &b); err != nil {
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("decoded an invalid binding %v: %v", b, err)
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var again Binding
		if err := json.Unmarshal(out, &again); err != nil || again != b {
			t.Fatalf("round trip of %s gave %v, %v", out, again, err)
		}
	})
}
