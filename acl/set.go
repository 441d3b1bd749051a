package acl

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Set is an immutable list of bindings that decides requests.
type Set struct {
	bindings []Binding
}

// NewSet returns the set of the given bindings; it keeps its own copy.
func NewSet(bindings []Binding) *Set {
	return &Set{bindings: append([]Binding(nil), bindings...)}
}

// Bindings returns the set's bindings. The caller must not modify them.
func (s *Set) Bindings() []Binding {
	if s == nil {
		return nil
	}
	return s.bindings
}

// Allowed decides whether user, connected from host, may perform op on the
// resource of type rt called name. A nil set allows nothing.
func (s *Set) Allowed(user, host string, rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) bool {
	if s == nil {
		return false
	}
	allowed := false
	for i := range s.bindings {
		b := &s.bindings[i]
		if b.ResourceType != rt || !b.appliesTo(user, host) || !b.matchesName(name) {
			continue
		}
		if b.Permission == kmsg.ACLPermissionTypeDeny {
			if b.Operation == op || b.Operation == kmsg.ACLOperationAll {
				return false
			}
			continue
		}
		allowed = allowed || implies(b.Operation, op)
	}
	return allowed
}

// AllowedAny reports whether user, connected from host, may perform op on
// at least one resource of type rt: some ALLOW binding grants it and no
// DENY binding on every name ("*" literal) takes it back. Kafka asks this of
// idempotent producers, which need WRITE on some topic.
func (s *Set) AllowedAny(user, host string, rt kmsg.ACLResourceType, op kmsg.ACLOperation) bool {
	if s == nil {
		return false
	}
	allowed := false
	for i := range s.bindings {
		b := &s.bindings[i]
		if b.ResourceType != rt || !b.appliesTo(user, host) {
			continue
		}
		if b.Permission == kmsg.ACLPermissionTypeDeny {
			if (b.Operation == op || b.Operation == kmsg.ACLOperationAll) && b.PatternType == kmsg.ACLResourcePatternTypeLiteral && b.Name == "*" {
				return false
			}
			continue
		}
		allowed = allowed || implies(b.Operation, op)
	}
	return allowed
}

// appliesTo reports whether the binding's principal and host cover the
// client.
func (b *Binding) appliesTo(user, host string) bool {
	p, ok := strings.CutPrefix(b.Principal, UserPrefix)
	return ok && (p == "*" || p == user) && (b.Host == "*" || b.Host == host)
}

// matchesName reports whether the binding's pattern covers a resource name.
func (b *Binding) matchesName(name string) bool {
	switch b.PatternType {
	case kmsg.ACLResourcePatternTypeLiteral:
		return b.Name == name || b.Name == "*"
	case kmsg.ACLResourcePatternTypePrefixed:
		return strings.HasPrefix(name, b.Name)
	}
	return false
}

// implies reports whether allowing granted allows op as well: ALL allows
// everything, READ, WRITE, DELETE and ALTER allow DESCRIBE, and
// ALTER_CONFIGS allows DESCRIBE_CONFIGS, as in Kafka.
func implies(granted, op kmsg.ACLOperation) bool {
	switch {
	case granted == op, granted == kmsg.ACLOperationAll:
		return true
	case op == kmsg.ACLOperationDescribe:
		switch granted {
		case kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationDelete, kmsg.ACLOperationAlter:
			return true
		}
	case op == kmsg.ACLOperationDescribeConfigs:
		return granted == kmsg.ACLOperationAlterConfigs
	}
	return false
}
