// Package acl holds Kafka access control lists and decides requests with
// Kafka's own rules: a matching DENY wins, otherwise a matching ALLOW for
// the operation (or one that implies it) is needed, and a request no binding
// allows is refused. Strait evaluates these lists inside virtual clusters,
// where resource names are the tenant's logical names.
package acl

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ClusterName is the only name a CLUSTER resource has.
const ClusterName = "kafka-cluster"

// UserPrefix starts every principal a binding names.
const UserPrefix = "User:"

// Binding is one access control entry: who (Principal, Host) may or may not
// (Permission) do what (Operation) to which resources (ResourceType, Name,
// PatternType).
type Binding struct {
	ResourceType kmsg.ACLResourceType
	Name         string
	PatternType  kmsg.ACLResourcePatternType
	Principal    string // "User:<name>", or "User:*" for everyone
	Host         string // a client IP address, or "*"
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// Validate reports the first thing wrong with b, in terms a client can act
// on. Only concrete bindings are valid: no ANY or MATCH, no UNKNOWN.
func (b Binding) Validate() error {
	switch b.ResourceType {
	case kmsg.ACLResourceTypeTopic, kmsg.ACLResourceTypeGroup, kmsg.ACLResourceTypeTransactionalId:
		if b.Name == "" {
			return fmt.Errorf("acl: %s binding without a resource name", b.ResourceType)
		}
	case kmsg.ACLResourceTypeCluster:
		if b.Name != ClusterName {
			return fmt.Errorf("acl: a CLUSTER binding names %s, not %q", ClusterName, b.Name)
		}
	default:
		return fmt.Errorf("acl: resource type %s cannot be bound; use TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID", b.ResourceType)
	}
	switch b.PatternType {
	case kmsg.ACLResourcePatternTypeLiteral:
	case kmsg.ACLResourcePatternTypePrefixed:
		if b.Name == "*" {
			return fmt.Errorf("acl: a PREFIXED binding cannot use the wildcard name *")
		}
	default:
		return fmt.Errorf("acl: pattern type %s cannot be bound; use LITERAL or PREFIXED", b.PatternType)
	}
	if user, ok := strings.CutPrefix(b.Principal, UserPrefix); !ok || user == "" {
		return fmt.Errorf("acl: principal %q is not of the form User:<name>", b.Principal)
	}
	if b.Host != "*" {
		if _, err := netip.ParseAddr(b.Host); err != nil {
			return fmt.Errorf("acl: host %q is neither * nor an IP address", b.Host)
		}
	}
	if b.Operation <= kmsg.ACLOperationAny || b.Operation > kmsg.ACLOperationDescribeTokens {
		return fmt.Errorf("acl: operation %s cannot be bound", b.Operation)
	}
	if b.Permission != kmsg.ACLPermissionTypeAllow && b.Permission != kmsg.ACLPermissionTypeDeny {
		return fmt.Errorf("acl: permission %s cannot be bound; use ALLOW or DENY", b.Permission)
	}
	return nil
}

// String shows a binding the way Kafka's tools do.
func (b Binding) String() string {
	return fmt.Sprintf("(principal=%s, host=%s, operation=%s, permissionType=%s) on %s:%s:%s",
		b.Principal, b.Host, b.Operation, b.Permission, b.ResourceType, b.PatternType, b.Name)
}

// bindingJSON is a binding's JSON form: the VirtualCluster spec.acls shape,
// with enum names as Kafka spells them.
type bindingJSON struct {
	ResourcePattern struct {
		ResourceType string `json:"resourceType"`
		Name         string `json:"name"`
		PatternType  string `json:"patternType"`
	} `json:"resourcePattern"`
	Principal      string `json:"principal"`
	Host           string `json:"host"`
	Operation      string `json:"operation"`
	PermissionType string `json:"permissionType"`
}

// MarshalJSON writes b in the VirtualCluster spec.acls shape. The output is
// deterministic, so it can serve as a record key.
func (b Binding) MarshalJSON() ([]byte, error) {
	var j bindingJSON
	j.ResourcePattern.ResourceType = b.ResourceType.String()
	j.ResourcePattern.Name = b.Name
	j.ResourcePattern.PatternType = b.PatternType.String()
	j.Principal, j.Host = b.Principal, b.Host
	j.Operation, j.PermissionType = b.Operation.String(), b.Permission.String()
	return json.Marshal(j)
}

// UnmarshalJSON reads the VirtualCluster spec.acls shape and validates it.
// host defaults to "*" and patternType to LITERAL.
func (b *Binding) UnmarshalJSON(data []byte) error {
	var j bindingJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("acl: %w", err)
	}
	var out Binding
	var err error
	if out.ResourceType, err = kmsg.ParseACLResourceType(j.ResourcePattern.ResourceType); err != nil {
		return fmt.Errorf("acl: resourcePattern.resourceType: %w", err)
	}
	out.PatternType = kmsg.ACLResourcePatternTypeLiteral
	if j.ResourcePattern.PatternType != "" {
		if out.PatternType, err = kmsg.ParseACLResourcePatternType(j.ResourcePattern.PatternType); err != nil {
			return fmt.Errorf("acl: resourcePattern.patternType: %w", err)
		}
	}
	if out.Operation, err = kmsg.ParseACLOperation(j.Operation); err != nil {
		return fmt.Errorf("acl: operation: %w", err)
	}
	if out.Permission, err = kmsg.ParseACLPermissionType(j.PermissionType); err != nil {
		return fmt.Errorf("acl: permissionType: %w", err)
	}
	out.Name, out.Principal, out.Host = j.ResourcePattern.Name, j.Principal, j.Host
	if out.Host == "" {
		out.Host = "*"
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*b = out
	return nil
}
