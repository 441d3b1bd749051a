package pipeline

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/resource"
)

// tagged is a test plugin whose instances carry their config's tag.
type tagged struct {
	interceptor.Base
	tag string
}

func (tagged) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: []int16{19}}
}

func init() {
	interceptor.Register(interceptor.Define("tag", "test plugin", "",
		func(c *struct {
			Tag string `json:"tag"`
		}, _ interceptor.Env) (interceptor.Interceptor, error) {
			return &tagged{tag: c.Tag}, nil
		}))
}

// doc is an Interceptor resource named name with the given scope JSON
// ("" for none), priority and tag.
func doc(t *testing.T, name, scope string, priority int, tag string) *resource.Resource {
	t.Helper()
	meta := fmt.Sprintf(`{"name":%q}`, name)
	if scope != "" {
		meta = fmt.Sprintf(`{"name":%q,"scope":%s}`, name, scope)
	}
	raw := fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":%s,"spec":{"pluginClass":"tag","priority":%d,"config":{"tag":%q}}}`,
		meta, priority, tag)
	r, err := resource.Parse([]byte(raw), "")
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return r
}

func load(t *testing.T, docs ...*resource.Resource) *Pipeline {
	t.Helper()
	p := New(Config{})
	entries := map[string]*resource.Resource{}
	for _, d := range docs {
		entries[string(d.Key())] = d
	}
	p.Apply(1, entries)
	return p
}

// tags lists the tags of a connection's chain in running order.
func tags(p *Pipeline, vc, user string, groups ...string) string {
	var out []string
	for _, s := range p.Chain(&interceptor.Conn{VCluster: vc, Username: user, Groups: groups}).Steps() {
		out = append(out, s.Interceptor.(*tagged).tag)
	}
	return strings.Join(out, ",")
}

func TestTargetingTable(t *testing.T) {
	p := load(t,
		doc(t, "everyone", `{"vCluster":null,"group":null,"username":null}`, 1, "everyone"),
		doc(t, "passthrough-only", "", 2, "passthrough-only"),
		doc(t, "user", `{"username":"admin"}`, 3, "user"),
		doc(t, "group", `{"group":"ops"}`, 4, "group"),
		doc(t, "vcluster", `{"vCluster":"read-only"}`, 5, "vcluster"),
		doc(t, "vcluster-user", `{"vCluster":"read-only","username":"admin"}`, 6, "vcluster-user"),
		doc(t, "vcluster-group", `{"vCluster":"read-only","group":"ops"}`, 7, "vcluster-group"),
		doc(t, "any-vcluster-user", `{"vCluster":null,"username":"bob"}`, 8, "any-vcluster-user"),
	)
	for _, c := range []struct {
		vc, user string
		groups   []string
		want     string
	}{
		{"passthrough", "someone", nil, "everyone,passthrough-only"},
		{"passthrough", "admin", nil, "everyone,passthrough-only,user"},
		{"passthrough", "someone", []string{"ops"}, "everyone,passthrough-only,group"},
		{"read-only", "someone", nil, "everyone,vcluster"},
		{"read-only", "admin", nil, "everyone,vcluster,vcluster-user"},
		{"read-only", "someone", []string{"ops"}, "everyone,vcluster,vcluster-group"},
		{"other", "admin", []string{"ops"}, "everyone"},
		{"other", "bob", nil, "everyone,any-vcluster-user"},
	} {
		if got := tags(p, c.vc, c.user, c.groups...); got != c.want {
			t.Errorf("%s/%s %v: chain %q, want %q", c.vc, c.user, c.groups, got, c.want)
		}
	}
}

func TestMostPreciseScopeOverrides(t *testing.T) {
	p := load(t,
		doc(t, "limit", `{"vCluster":null}`, 10, "global"),
		doc(t, "limit", `{"vCluster":"vc"}`, 10, "vcluster"),
		doc(t, "limit", `{"vCluster":null,"group":"g1"}`, 10, "group-g1"),
		doc(t, "limit", `{"vCluster":null,"group":"g2"}`, 11, "group-g2"),
		doc(t, "limit", `{"vCluster":"vc","group":"g2"}`, 12, "vc-group-g2"),
		doc(t, "limit", `{"vCluster":null,"username":"u"}`, 10, "user"),
	)
	for _, c := range []struct {
		vc, user string
		groups   []string
		want     string
	}{
		{"passthrough", "x", nil, "global"},
		{"vc", "x", nil, "vcluster"},
		{"vc", "x", []string{"g1"}, "group-g1"},
		// Several groups match and no user scope does: every group's
		// instance loads; a group scoped to the virtual cluster wins over
		// the same group unscoped.
		{"vc", "x", []string{"g1", "g2"}, "group-g1,vc-group-g2"},
		{"passthrough", "x", []string{"g1", "g2"}, "group-g1,group-g2"},
		{"vc", "u", []string{"g1", "g2"}, "user"},
	} {
		if got := tags(p, c.vc, c.user, c.groups...); got != c.want {
			t.Errorf("%s/%s %v: chain %q, want %q", c.vc, c.user, c.groups, got, c.want)
		}
	}
}

// TestSeedInteraction is the seeds' example: A and B global, C for Alice
// only, D global and overridden for Bob.
func TestSeedInteraction(t *testing.T) {
	p := load(t,
		doc(t, "interceptor-A", "", 1, "A"),
		doc(t, "interceptor-B", "", 2, "B"),
		doc(t, "interceptor-C", `{"username":"alice"}`, 3, "C"),
		doc(t, "interceptor-D", "", 4, "D"),
		doc(t, "interceptor-D", `{"username":"bob"}`, 4, "D-for-bob"),
	)
	for user, want := range map[string]string{"alice": "A,B,C,D", "bob": "A,B,D-for-bob", "carol": "A,B,D"} {
		if got := tags(p, "passthrough", user); got != want {
			t.Errorf("%s: chain %q, want %q", user, got, want)
		}
	}
}

// TestPriorityOrder: lower priority first, ties by name, and an override
// runs at its own priority.
func TestPriorityOrder(t *testing.T) {
	p := load(t,
		doc(t, "b", "", 5, "b"),
		doc(t, "a", "", 5, "a"),
		doc(t, "z", "", 1, "z"),
		doc(t, "m", "", 3, "m"),
		doc(t, "m", `{"username":"u"}`, 9, "m-late"),
	)
	if got := tags(p, "passthrough", "x"); got != "z,m,a,b" {
		t.Errorf("chain %q, want z,m,a,b", got)
	}
	if got := tags(p, "passthrough", "u"); got != "z,a,b,m-late" {
		t.Errorf("chain for u %q, want z,a,b,m-late", got)
	}
}

func TestGenerations(t *testing.T) {
	a, b := doc(t, "a", "", 1, "a"), doc(t, "b", "", 2, "b")
	p := New(Config{})
	p.Apply(3, map[string]*resource.Resource{string(a.Key()): a})
	conn := &interceptor.Conn{VCluster: "passthrough", Username: "x"}
	first := p.Chain(conn)
	if first.Generation != 3 || p.Chain(conn) != first {
		t.Fatalf("chain not cached per generation: %d", first.Generation)
	}
	p.Apply(4, map[string]*resource.Resource{string(a.Key()): a, string(b.Key()): b})
	second := p.Chain(conn)
	if second.Generation != 4 || len(second.Steps()) != 2 {
		t.Fatalf("generation 4: %d steps at generation %d", len(second.Steps()), second.Generation)
	}
	if first.Steps()[0].Interceptor != second.Steps()[0].Interceptor {
		t.Error("an unchanged interceptor was rebuilt")
	}
	if len(first.Steps()) != 1 {
		t.Error("an old chain changed under a request running on it")
	}
	p.Apply(2, map[string]*resource.Resource{})
	if p.Generation() != 4 {
		t.Errorf("an older snapshot replaced generation 4 with %d", p.Generation())
	}
	got := p.Resolve("passthrough", "x", nil)
	if len(got) != 2 || !slices.ContainsFunc(got, func(r *resource.Resource) bool { return r.Name == "b" }) {
		t.Errorf("Resolve = %d resources", len(got))
	}
}
