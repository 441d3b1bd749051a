package pipeline

import (
	"slices"

	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/vcluster"
)

// scope is an Interceptor resource's metadata.scope. Each field is either
// absent, null or a value; the seeds give absent and null different
// meanings for vCluster.
type scope struct {
	vcluster, group, username field
}

type field struct {
	set   bool   // present, with a value or null
	value string // "" when null
	null  bool
}

// any reports whether the field matches every value: absent or null.
func (f field) any() bool { return !f.set || f.null }

func scopeOf(r *resource.Resource) scope {
	m, _ := r.Identity["scope"].(map[string]any)
	get := func(name string) field {
		v, ok := m[name]
		if !ok {
			return field{}
		}
		s, _ := v.(string)
		return field{set: true, value: s, null: v == nil}
	}
	return scope{vcluster: get("vCluster"), group: get("group"), username: get("username")}
}

// matches reports whether the scope applies to a connection and, if so,
// which of its groups it targets ("" when it targets none).
//
// A vCluster left out of the scope means the passthrough virtual cluster
// only; vCluster null means every virtual cluster, passthrough included.
func (s scope) matches(vc, user string, groups []string) bool {
	switch {
	case !s.vcluster.set:
		if vc != vcluster.Passthrough {
			return false
		}
	case !s.vcluster.null && s.vcluster.value != vc:
		return false
	}
	if !s.username.any() && s.username.value != user {
		return false
	}
	if !s.group.any() && !slices.Contains(groups, s.group.value) {
		return false
	}
	return true
}

// precision ranks scopes: a username beats a group, which beats a
// virtual cluster, which beats global; naming the virtual cluster as well
// makes a scope more precise than the same scope without it.
func (s scope) precision() int {
	p := 0
	if !s.username.any() {
		p += 4
	}
	if !s.group.any() {
		p += 2
	}
	if !s.vcluster.any() {
		p++
	}
	return p
}

// targetsGroup reports whether the scope's most precise part is a group.
func (s scope) targetsGroup() bool { return s.username.any() && !s.group.any() }
