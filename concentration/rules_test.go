package concentration

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-gateway/strait/resource"
)

// ruleEntries parses gateway/v2 documents into config-store entries.
func ruleEntries(t *testing.T, docs ...string) map[string]*resource.Resource {
	t.Helper()
	entries := map[string]*resource.Resource{}
	for _, d := range docs {
		r, err := resource.Parse([]byte(d), "")
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		entries[string(r.Key())] = r
	}
	return entries
}

func ruleDoc(name, vcluster, pattern, spec string) string {
	meta := fmt.Sprintf(`{"name":%q}`, name)
	if vcluster != "" {
		meta = fmt.Sprintf(`{"name":%q,"vCluster":%q}`, name, vcluster)
	}
	return fmt.Sprintf(`{"apiVersion":"gateway/v2","kind":"ConcentrationRule","metadata":%s,"spec":{"pattern":%q,%s}}`, meta, pattern, spec)
}

func TestCompileRules(t *testing.T) {
	entries := ruleEntries(t,
		ruleDoc("b-all", "", "a.*", `"physicalTopics":{"delete":"b-del"}`),
		ruleDoc("a-orders", "", "a-orders-.*", `"physicalTopics":{"delete":"a-del","compact":"a-cmp","deleteCompact":"a-cd"},"autoManaged":true,"offsetCorrectness":true`),
		ruleDoc("tenant", "t1", "a.*", `"physicalTopics":{"delete":"t-del"}`),
		`{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"t1"},"spec":{}}`,
	)
	rs := compileRules(entries)
	if len(rs) != 2 || len(rs["passthrough"]) != 2 || len(rs["t1"]) != 1 {
		t.Fatalf("rules by vcluster: %v", rs)
	}
	a := rs["passthrough"][0]
	if a.Name != "a-orders" || !a.AutoManaged || !a.Dense || a.VCluster != "passthrough" ||
		a.Physical["delete"] != "a-del" || a.Physical["compact"] != "a-cmp" || a.Physical["compact,delete"] != "a-cd" {
		t.Errorf("rule a-orders compiled as %+v", a)
	}
	b := rs["passthrough"][1]
	if b.AutoManaged || b.Dense || len(b.Physical) != 1 || b.Physical["delete"] != "b-del" {
		t.Errorf("rule b-all compiled as %+v", b)
	}
	for _, tc := range []struct {
		vc, name, want string // want: rule name, empty for none
	}{
		{"passthrough", "a-orders-1", "a-orders"}, // both match: first by name wins
		{"passthrough", "abc", "b-all"},
		{"passthrough", "a", "b-all"},
		{"passthrough", "xa", ""}, // a match inside the name is not enough
		{"passthrough", "b", ""},
		{"t1", "a-orders-1", "tenant"},
		{"t1", "xa", ""},
		{"t2", "abc", ""},
	} {
		got := rs.match(tc.vc, tc.name)
		if (got == nil && tc.want != "") || (got != nil && got.Name != tc.want) {
			t.Errorf("match(%q, %q) = %v, want %q", tc.vc, tc.name, got, tc.want)
		}
	}
}

func TestRuleMatchesWholeName(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"a.*", "a", true},
		{"a.*", "abc", true},
		{"a.*", "xa", false},
		{"a", "ab", false},
		{"a", "ba", false},
		{"orders-[0-9]+", "orders-12", true},
		{"orders-[0-9]+", "orders-12x", false},
		{"^a$", "a", true},
		// The whole name must match even when a shorter alternative
		// matches a prefix first.
		{"a|ab", "ab", true},
		{"topic|topic-.*", "topic-1", true},
		{"x*", "", true},
	} {
		rs := compileRules(ruleEntries(t, ruleDoc("r", "", tc.pattern, `"physicalTopics":{"delete":"d"}`)))
		r := rs["passthrough"][0]
		if got := r.Matches(tc.name); got != tc.want {
			t.Errorf("pattern %q on %q: %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestCompileRulesSkipsBadEntries(t *testing.T) {
	entries := ruleEntries(t, ruleDoc("ok", "", "a.*", `"physicalTopics":{"delete":"d"}`))
	// Written before validation existed, or by hand: skipped, not fatal.
	entries["bad regex"] = &resource.Resource{Kind: "ConcentrationRule", Name: "bad", Raw: []byte(`{"spec":{"pattern":"("}}`)}
	entries["bad json"] = &resource.Resource{Kind: "ConcentrationRule", Name: "worse", Raw: []byte(`{`)}
	rs := compileRules(entries)
	if len(rs["passthrough"]) != 1 || rs["passthrough"][0].Name != "ok" {
		t.Errorf("rules: %v", rs["passthrough"])
	}
}

func TestCanonicalPolicy(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want empty: refused
	}{
		{"", "delete"},
		{"delete", "delete"},
		{"compact", "compact"},
		{"compact,delete", "compact,delete"},
		{"delete,compact", "compact,delete"},
		{" delete , compact", "compact,delete"},
		{"delete,delete", "delete"},
		{"bogus", ""},
		{"delete,bogus", ""},
		{",", ""},
		{"Delete", ""},
	} {
		got, err := canonicalPolicy(tc.in)
		var ce *createError
		switch {
		case tc.want == "" && (!errors.As(err, &ce) || ce.err != kerr.InvalidConfig):
			t.Errorf("canonicalPolicy(%q) = %q, %v; want an InvalidConfig refusal", tc.in, got, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("canonicalPolicy(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
