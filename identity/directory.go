package identity

import (
	"encoding/json"
	"slices"
	"sort"

	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/vcluster"
)

// account is a GatewayServiceAccount.
type account struct {
	vcluster, name string
	external       bool
}

// directory is what one generation of the configuration says about
// identities: service accounts, groups and virtual clusters. It is built
// whole and swapped atomically.
type directory struct {
	accounts map[[2]string]account // (vCluster, name) → account
	external map[string]account    // external principal name → account
	// members maps (vCluster, name) to the groups listing it;
	// externalGroups maps an external group name to gateway groups.
	members        map[[2]string][]string
	externalGroups map[string][]string
	spaces         map[string]*vcluster.Space
	// acls holds the ACL policy of each virtual cluster that enforces ACLs.
	acls map[string]*aclPolicy
}

// buildDirectory reads the resources of a config snapshot.
func buildDirectory(entries map[string]*resource.Resource) *directory {
	d := &directory{
		accounts:       map[[2]string]account{},
		external:       map[string]account{},
		members:        map[[2]string][]string{},
		externalGroups: map[string][]string{},
		spaces:         map[string]*vcluster.Space{},
		acls:           map[string]*aclPolicy{},
	}
	aliases := map[string]map[string]string{}
	vclusters := []string{vcluster.Passthrough}
	for _, r := range entries {
		vc := vclusterOf(r)
		switch r.Kind {
		case "VirtualCluster":
			vclusters = append(vclusters, r.Name)
			if p := readACLPolicy(r.Raw); p != nil {
				d.acls[r.Name] = p
			}
		case "AliasTopic":
			if vc == vcluster.Passthrough {
				continue // only virtual clusters have aliases; older records may lack one
			}
			var s struct {
				Spec struct {
					PhysicalName string `json:"physicalName"`
				} `json:"spec"`
			}
			if json.Unmarshal(r.Raw, &s) == nil {
				if aliases[vc] == nil {
					aliases[vc] = map[string]string{}
				}
				aliases[vc][r.Name] = s.Spec.PhysicalName
			}
		case "GatewayServiceAccount":
			var s struct {
				Spec struct {
					Type          string   `json:"type"`
					ExternalNames []string `json:"externalNames"`
				} `json:"spec"`
			}
			if json.Unmarshal(r.Raw, &s) != nil {
				continue
			}
			a := account{vcluster: vc, name: r.Name, external: s.Spec.Type == "EXTERNAL"}
			d.accounts[[2]string{vc, r.Name}] = a
			for _, n := range s.Spec.ExternalNames {
				d.external[n] = a
			}
		case "GatewayGroup":
			var s struct {
				Spec struct {
					Members []struct {
						Name     string `json:"name"`
						VCluster string `json:"vCluster"`
					} `json:"members"`
					ExternalGroups []string `json:"externalGroups"`
				} `json:"spec"`
			}
			if json.Unmarshal(r.Raw, &s) != nil {
				continue
			}
			for _, m := range s.Spec.Members {
				mvc := m.VCluster
				if mvc == "" {
					mvc = vcluster.Passthrough
				}
				k := [2]string{mvc, m.Name}
				d.members[k] = append(d.members[k], r.Name)
			}
			for _, g := range s.Spec.ExternalGroups {
				d.externalGroups[g] = append(d.externalGroups[g], r.Name)
			}
		}
	}
	for _, vc := range vclusters {
		d.spaces[vc] = vcluster.New(vc, aliases[vc])
	}
	for _, gs := range d.members {
		sort.Strings(gs)
	}
	return d
}

// vclusterOf returns a resource's metadata.vCluster, passthrough when it
// has none.
func vclusterOf(r *resource.Resource) string {
	if vc, ok := r.Identity["vCluster"].(string); ok && vc != "" {
		return vc
	}
	return vcluster.Passthrough
}

// groups returns the gateway groups of a user: those listing it as a
// member and those mapped from its external groups, sorted, no repeats.
func (d *directory) groups(vc, name string, external []string) []string {
	gs := slices.Clone(d.members[[2]string{vc, name}])
	for _, e := range external {
		gs = append(gs, d.externalGroups[e]...)
	}
	slices.Sort(gs)
	return slices.Compact(gs)
}
