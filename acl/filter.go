package acl

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Filter selects bindings, as DescribeAcls and DeleteAcls requests do.
// ANY matches every value of an enum and a nil string every string.
type Filter struct {
	ResourceType kmsg.ACLResourceType
	Name         *string
	PatternType  kmsg.ACLResourcePatternType
	Principal    *string
	Host         *string
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// Matches reports whether the filter selects b. Pattern type MATCH selects
// every binding that would apply to a resource named Name: literal ones of
// that name or the wildcard, and prefixed ones whose prefix starts it.
func (f Filter) Matches(b Binding) bool {
	if f.ResourceType != kmsg.ACLResourceTypeAny && f.ResourceType != b.ResourceType {
		return false
	}
	if f.Operation != kmsg.ACLOperationAny && f.Operation != b.Operation {
		return false
	}
	if f.Permission != kmsg.ACLPermissionTypeAny && f.Permission != b.Permission {
		return false
	}
	if (f.Principal != nil && *f.Principal != b.Principal) || (f.Host != nil && *f.Host != b.Host) {
		return false
	}
	switch f.PatternType {
	case kmsg.ACLResourcePatternTypeAny:
		return f.Name == nil || *f.Name == b.Name
	case kmsg.ACLResourcePatternTypeMatch:
		if f.Name == nil {
			return true
		}
		if b.PatternType == kmsg.ACLResourcePatternTypePrefixed {
			return strings.HasPrefix(*f.Name, b.Name)
		}
		return b.Name == *f.Name || b.Name == "*"
	}
	return f.PatternType == b.PatternType && (f.Name == nil || *f.Name == b.Name)
}

// Select returns the bindings of s the filter matches, in the set's order.
func (s *Set) Select(f Filter) []Binding {
	var out []Binding
	for _, b := range s.Bindings() {
		if f.Matches(b) {
			out = append(out, b)
		}
	}
	return out
}

// FromCreation turns one entry of a CreateAcls request into a binding and
// validates it. Version 0 requests carry no pattern type: LITERAL.
func FromCreation(c kmsg.CreateACLsRequestCreation) (Binding, error) {
	b := Binding{
		ResourceType: c.ResourceType,
		Name:         c.ResourceName,
		PatternType:  c.ResourcePatternType,
		Principal:    c.Principal,
		Host:         c.Host,
		Operation:    c.Operation,
		Permission:   c.PermissionType,
	}
	if b.PatternType == kmsg.ACLResourcePatternTypeUnknown {
		b.PatternType = kmsg.ACLResourcePatternTypeLiteral
	}
	return b, b.Validate()
}

// FromDescribe returns the filter of a DescribeAcls request.
func FromDescribe(r *kmsg.DescribeACLsRequest) Filter {
	return newFilter(Filter{
		ResourceType: r.ResourceType, Name: r.ResourceName, PatternType: r.ResourcePatternType,
		Principal: r.Principal, Host: r.Host, Operation: r.Operation, Permission: r.PermissionType,
	})
}

// FromDeletion returns one filter of a DeleteAcls request.
func FromDeletion(d kmsg.DeleteACLsRequestFilter) Filter {
	return newFilter(Filter{
		ResourceType: d.ResourceType, Name: d.ResourceName, PatternType: d.ResourcePatternType,
		Principal: d.Principal, Host: d.Host, Operation: d.Operation, Permission: d.PermissionType,
	})
}

// newFilter gives a version 0 filter, which has no pattern type, LITERAL.
func newFilter(f Filter) Filter {
	if f.PatternType == kmsg.ACLResourcePatternTypeUnknown {
		f.PatternType = kmsg.ACLResourcePatternTypeLiteral
	}
	return f
}

// Valid reports whether a filter can match anything: its enums must be
// known values.
func (f Filter) Valid() bool {
	return f.ResourceType > kmsg.ACLResourceTypeUnknown && f.ResourceType <= kmsg.ACLResourceTypeUser &&
		f.PatternType > kmsg.ACLResourcePatternTypeUnknown && f.PatternType <= kmsg.ACLResourcePatternTypePrefixed &&
		f.Operation > kmsg.ACLOperationUnknown && f.Operation <= kmsg.ACLOperationDescribeTokens &&
		f.Permission > kmsg.ACLPermissionTypeUnknown && f.Permission <= kmsg.ACLPermissionTypeAllow
}
