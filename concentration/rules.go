package concentration

import (
	"encoding/json"
	"regexp"
	"sort"

	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/vcluster"
)

// Rule is one ConcentrationRule, compiled.
type Rule struct {
	Name     string
	VCluster string
	pattern  *regexp.Regexp // anchored at both ends
	// Physical maps a canonical cleanup policy to the physical topic's
	// name as the rule's virtual cluster sees it.
	Physical    map[string]string
	AutoManaged bool
	Dense       bool
}

// Matches reports whether a logical topic name (as the virtual cluster
// sees it) falls under the rule: the whole name must match the pattern.
func (r *Rule) Matches(name string) bool {
	return r.pattern.MatchString(name)
}

// rules holds the rules of one configuration generation by virtual
// cluster, each list sorted by name so the first match is deterministic.
type rules map[string][]*Rule

// compileRules reads the ConcentrationRules of a config snapshot.
// Resources were validated when written, so a rule that does not compile
// is skipped.
func compileRules(entries map[string]*resource.Resource) rules {
	rs := rules{}
	for _, e := range entries {
		if e.Kind != "ConcentrationRule" {
			continue
		}
		var doc struct {
			Spec resource.ConcentrationRuleSpec `json:"spec"`
		}
		if json.Unmarshal(e.Raw, &doc) != nil {
			continue
		}
		// Anchored, so a shorter alternative matching a prefix does not
		// hide a match of the whole name.
		re, err := regexp.Compile(`^(?:` + doc.Spec.Pattern + `)$`)
		if err != nil {
			continue
		}
		vc, _ := e.Identity["vCluster"].(string)
		if vc == "" {
			vc = vcluster.Passthrough
		}
		pt := doc.Spec.PhysicalTopics
		r := &Rule{Name: e.Name, VCluster: vc, pattern: re, AutoManaged: doc.Spec.AutoManaged,
			Dense: doc.Spec.OffsetCorrectness, Physical: map[string]string{"delete": pt.Delete}}
		if pt.Compact != "" {
			r.Physical["compact"] = pt.Compact
		}
		if pt.DeleteCompact != "" {
			r.Physical["compact,delete"] = pt.DeleteCompact
		}
		rs[vc] = append(rs[vc], r)
	}
	for _, l := range rs {
		sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	}
	return rs
}

// match returns the first rule of a virtual cluster whose pattern takes
// the logical name, nil when none does.
func (rs rules) match(vc, name string) *Rule {
	for _, r := range rs[vc] {
		if r.Matches(name) {
			return r
		}
	}
	return nil
}
