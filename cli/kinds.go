package cli

import (
	"flag"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/strait-gateway/strait/resource"
)

// resolveKind returns the kind a user named by its kind name
// (GatewayServiceAccount), its API path (service-account) or a plural of
// either, in any case.
func resolveKind(cmd, arg string) (string, error) {
	want := strings.ToLower(arg)
	var valid []string
	for _, k := range resource.KindNames() {
		for _, name := range []string{k, resource.PathForKind(k)} {
			if n := strings.ToLower(name); want == n || want == n+"s" {
				return k, nil
			}
		}
		valid = append(valid, k+" ("+resource.PathForKind(k)+")")
	}
	return "", usagef(cmd, "unknown kind %q; expect one of %s", arg, strings.Join(valid, ", "))
}

// describe names a resource for the user: kind, name and whatever else
// identifies it, e.g. "Interceptor/limit (scope username=bob)".
func describe(kind string, identity map[string]any) string {
	s := fmt.Sprintf("%s/%v", kind, identity["name"])
	if vc, ok := identity["vCluster"]; ok {
		s += fmt.Sprintf(" (vCluster %v)", vc)
	}
	if scope, _ := identity["scope"].(map[string]any); len(scope) > 0 {
		var parts []string
		for field, v := range scope {
			if v == nil {
				v = "null"
			}
			parts = append(parts, fmt.Sprintf("%s=%v", field, v))
		}
		sort.Strings(parts)
		s += " (scope " + strings.Join(parts, ", ") + ")"
	}
	return s
}

// identityFlags are --vcluster, --group and --username: they filter what
// get lists, and tell apart resources that share a name.
type identityFlags struct {
	vCluster, group, username string
}

func (f *identityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.vCluster, "vcluster", "", "the virtual cluster: metadata.vCluster, or an interceptor's metadata.scope.vCluster")
	fs.StringVar(&f.group, "group", "", "an interceptor's metadata.scope.group")
	fs.StringVar(&f.username, "username", "", "an interceptor's metadata.scope.username")
}

func (f identityFlags) set() bool { return f.vCluster != "" || f.group != "" || f.username != "" }

// query returns the admin API's list filters.
func (f identityFlags) query() url.Values {
	q := url.Values{}
	for param, v := range map[string]string{"vCluster": f.vCluster, "group": f.group, "username": f.username} {
		if v != "" {
			q.Set(param, v)
		}
	}
	return q
}

// metadata returns the identity of the resource of kind named name with
// exactly the fields given: an interceptor's are its scope, and every
// other kind's are metadata fields.
func (f identityFlags) metadata(kind, name string) map[string]any {
	meta := map[string]any{"name": name}
	fields := meta
	if kind == "Interceptor" {
		fields = map[string]any{}
		meta["scope"] = fields
	}
	for field, v := range map[string]string{"vCluster": f.vCluster, "group": f.group, "username": f.username} {
		if v != "" {
			fields[field] = v
		}
	}
	return meta
}
