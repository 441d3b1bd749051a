package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// curlDoc is stored by hand, with its keys in an unusual order and values
// that YAML could misread: get must print it so that apply sends it back
// byte for byte.
const curlDoc = `{"spec":{"priority":7,"pluginClass":"p","config":{"n":"100","b":"true","nul":"null","f":2.50,"e":1e3,"list":[],"obj":{},` +
	`"text":"line 1\nline 2","html":"a<b>&c","colon":"a: b","hash":"#x","date":"2001-12-14","lead":" space","big":12345678901234567890}},` +
	`"metadata":{"scope":{"username":"bob","group":null},"name":"odd"},"kind":"Interceptor","apiVersion":"gateway/v2"}`

func TestGetRoundTrips(t *testing.T) {
	n := newNode(t)
	n.cli(t, 0, "apply", "-f", writeFile(t, "", "all.yaml", outOfOrder))
	n.put(t, "/gateway/v2/interceptor", curlDoc)

	for _, format := range []string{"yaml", "json"} {
		dir := t.TempDir()
		var files []string
		for _, kind := range []string{"virtual-clusters", "AliasTopic", "concentration-rule", "service-account", "GatewayGroups", "interceptor"} {
			stdout, _ := n.cli(t, 0, "get", kind, "-o", format)
			files = append(files, "-f", writeFile(t, dir, kind+"."+format, stdout))
		}
		n.seen()
		stdout, _ := n.cli(t, 0, append([]string{"apply"}, files...)...)
		want := withResult(append(appliedLines[:5:5], // get lists a kind by canonical key
			"Interceptor/all-vclusters (scope vCluster=null)",
			"Interceptor/enforce-partitions (scope vCluster=vc-a)",
			"Interceptor/odd (scope group=null, username=bob)"), "NOT_CHANGED")
		if stdout != want {
			t.Fatalf("apply of get -o %s:\n%s\nwant:\n%s", format, stdout, want)
		}
		if got := n.seen(); len(got) != 8 {
			t.Fatalf("apply of get -o %s sent %d requests: %v", format, len(got), got)
		}
	}
	// The stored document is still byte for byte what curl sent.
	if code, got := n.get(t, "/gateway/v2/interceptor/odd"); code != 200 || got != curlDoc {
		t.Fatalf("stored document changed: %d\n%s\nwant\n%s", code, got, curlDoc)
	}
}

func TestGetOne(t *testing.T) {
	n := newNode(t)
	n.cli(t, 0, "apply", "-f", writeFile(t, "", "all.yaml", outOfOrder))
	n.put(t, "/gateway/v2/interceptor", `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"limit"},"spec":{"pluginClass":"p","priority":1}}`)
	n.put(t, "/gateway/v2/interceptor", `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"limit","scope":{"username":"bob"}},"spec":{"pluginClass":"p","priority":2}}`)

	stdout, _ := n.cli(t, 0, "get", "virtual-cluster", "vc-a")
	if want := "apiVersion: gateway/v2\nkind: VirtualCluster\nmetadata:\n  name: vc-a\nspec:\n  aclEnabled: false\n"; stdout != want {
		t.Fatalf("yaml:\n%s\nwant:\n%s", stdout, want)
	}
	stdout, _ = n.cli(t, 0, "get", "service-account", "sa-app", "-o", "json")
	var doc struct{ Metadata map[string]string }
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.Metadata["vCluster"] != "vc-a" {
		t.Fatalf("json: %v\n%s", err, stdout)
	}

	_, stderr := n.cli(t, 1, "get", "group", "nobody")
	if !strings.Contains(stderr, "GatewayGroup nobody not found") {
		t.Fatalf("404: %s", stderr)
	}
	_, stderr = n.cli(t, 1, "get", "service-account", "sa-app", "--vcluster", "vc-b")
	if !strings.Contains(stderr, "GatewayServiceAccount sa-app not found with vCluster=vc-b") {
		t.Fatalf("404 with a filter: %s", stderr)
	}
	_, stderr = n.cli(t, 1, "get", "interceptor", "limit")
	if !strings.Contains(stderr, "several Interceptor resources are named limit; choose one with --vcluster, --group or --username") {
		t.Fatalf("409: %s", stderr)
	}
	stdout, _ = n.cli(t, 0, "get", "interceptor", "limit", "--username", "bob")
	if !strings.Contains(stdout, "priority: 2") {
		t.Fatalf("narrowed: %s", stdout)
	}
}

func TestGetFilters(t *testing.T) {
	n := newNode(t)
	n.cli(t, 0, "apply", "-f", writeFile(t, "", "all.yaml", outOfOrder))
	for _, tc := range []struct {
		args  []string
		names []string
	}{
		{[]string{"get", "interceptors"}, []string{"all-vclusters", "enforce-partitions"}},
		{[]string{"get", "interceptors", "--vcluster", "vc-a"}, []string{"enforce-partitions"}},
		{[]string{"get", "service-accounts", "--vcluster", "vc-a"}, []string{"sa-app"}},
		{[]string{"get", "service-accounts", "--vcluster", "vc-b"}, nil},
		{[]string{"get", "interceptors", "--username", "bob"}, nil},
	} {
		stdout, _ := n.cli(t, 0, append(tc.args, "-o", "json")...)
		var list []struct{ Metadata struct{ Name string } }
		if err := json.Unmarshal([]byte(stdout), &list); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, stdout)
		}
		var names []string
		for _, r := range list {
			names = append(names, r.Metadata.Name)
		}
		if strings.Join(names, ",") != strings.Join(tc.names, ",") {
			t.Errorf("%v: %v, want %v", tc.args, names, tc.names)
		}
	}
}
