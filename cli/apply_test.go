package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// outOfOrder has every kind, dependents first; two interceptors keep their
// file order.
const outOfOrder = `# Interceptors first, although they are applied last.
apiVersion: gateway/v2
kind: Interceptor
metadata:
  name: enforce-partitions
  scope:
    vCluster: vc-a
spec:
  pluginClass: io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin
  priority: 100
  config:
    topic: ".*"
    numPartition: {min: 1, max: 6, action: BLOCK}
---
apiVersion: gateway/v2
kind: GatewayGroup
metadata: {name: group-a}
spec:
  members: [{name: admin}, {vCluster: vc-a, name: sa-app}]
---
apiVersion: gateway/v2
kind: Interceptor
metadata: {name: all-vclusters, scope: {vCluster: null}}
spec: {pluginClass: p, priority: 1, config: {ratio: 1.50}}
---
apiVersion: gateway/v2
kind: GatewayServiceAccount
metadata: {name: sa-app, vCluster: vc-a}
spec: {type: LOCAL}
---
apiVersion: gateway/v2
kind: ConcentrationRule
metadata: {name: titi}
spec: {pattern: titi-.*, physicalTopics: {delete: titi-delete}}
---
apiVersion: gateway/v2
kind: AliasTopic
metadata: {name: orders, vCluster: vc-a}
spec: {physicalName: prod.orders}
---
apiVersion: gateway/v2
kind: VirtualCluster
metadata: {name: vc-a}
spec: {aclEnabled: false}
`

// appliedLines is what applying outOfOrder prints, in dependency order.
var appliedLines = []string{
	"VirtualCluster/vc-a",
	"AliasTopic/orders (vCluster vc-a)",
	"ConcentrationRule/titi",
	"GatewayServiceAccount/sa-app (vCluster vc-a)",
	"GatewayGroup/group-a",
	"Interceptor/enforce-partitions (scope vCluster=vc-a)",
	"Interceptor/all-vclusters (scope vCluster=null)",
}

var appliedPaths = []string{"virtual-cluster", "alias-topic", "concentration-rule", "service-account", "group", "interceptor", "interceptor"}

func withResult(lines []string, result string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + ": " + result + "\n")
	}
	return b.String()
}

func TestApplyOrderResultsAndReapply(t *testing.T) {
	n := newNode(t)
	file := writeFile(t, "", "all.yaml", outOfOrder)

	stdout, _ := n.cli(t, 0, "apply", "-f", file)
	if want := withResult(appliedLines, "CREATED"); stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	seen := n.seen()
	if len(seen) != len(appliedPaths) {
		t.Fatalf("requests %v", seen)
	}
	for i, p := range appliedPaths {
		if seen[i] != "PUT /gateway/v2/"+p {
			t.Errorf("request %d: %s, want PUT /gateway/v2/%s", i, seen[i], p)
		}
	}

	// What the node stores is the document as written: key order, null
	// scope fields and number literals kept.
	for path, want := range map[string]string{
		"/gateway/v2/interceptor/enforce-partitions": `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"enforce-partitions","scope":{"vCluster":"vc-a"}},"spec":{"pluginClass":"io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin","priority":100,"config":{"topic":".*","numPartition":{"min":1,"max":6,"action":"BLOCK"}}}}`,
		"/gateway/v2/interceptor/all-vclusters":      `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"all-vclusters","scope":{"vCluster":null}},"spec":{"pluginClass":"p","priority":1,"config":{"ratio":1.50}}}`,
		"/gateway/v2/service-account/sa-app":         `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"sa-app","vCluster":"vc-a"},"spec":{"type":"LOCAL"}}`,
		"/gateway/v2/virtual-cluster/vc-a":           `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"vc-a"},"spec":{"aclEnabled":false}}`,
		"/gateway/v2/group/group-a":                  `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"group-a"},"spec":{"members":[{"name":"admin"},{"vCluster":"vc-a","name":"sa-app"}]}}`,
	} {
		if code, got := n.get(t, path); code != 200 || got != want {
			t.Errorf("GET %s: %d\n%s\nwant\n%s", path, code, got, want)
		}
	}

	stdout, _ = n.cli(t, 0, "apply", "-f", file)
	if want := withResult(appliedLines, "NOT_CHANGED"); stdout != want {
		t.Fatalf("re-apply:\n%s\nwant:\n%s", stdout, want)
	}

	changed := strings.Replace(outOfOrder, "physicalName: prod.orders", "physicalName: prod.orders.v2", 1)
	stdout, _ = n.cli(t, 0, "apply", "-f", writeFile(t, "", "changed.yaml", changed))
	if !strings.Contains(stdout, "AliasTopic/orders (vCluster vc-a): UPDATED\n") || strings.Count(stdout, "NOT_CHANGED") != len(appliedLines)-1 {
		t.Fatalf("apply of one change:\n%s", stdout)
	}
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	n := newNode(t)
	stdout, _ := n.cli(t, 0, "apply", "--dry-run", "-f", writeFile(t, "", "all.yaml", outOfOrder))
	if want := withResult(appliedLines, "CREATED (dry run)"); stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	for _, r := range n.seen() {
		if !strings.HasSuffix(r, "?dryMode=true") {
			t.Errorf("request without dryMode: %s", r)
		}
	}
	for _, p := range appliedPaths {
		if code, out := n.get(t, "/gateway/v2/"+p); code != 200 || out != "[]" {
			t.Errorf("after a dry run GET %s: %d %s", p, code, out)
		}
	}
}

func TestApplyInvalidSendsNothing(t *testing.T) {
	dir := t.TempDir()
	valid := "apiVersion: gateway/v2\nkind: GatewayGroup\nmetadata: {name: g}\nspec: {}\n"
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"field errors in two documents", valid + "---\n" +
			"apiVersion: gateway/v2\nkind: Interceptor\nmetadata: {name: i}\nspec: {pluginClass: p}\n---\n" +
			"apiVersion: gateway/v2\nkind: Topic\nmetadata: {name: t}\n",
			[]string{"bad.yaml: document 2 (line 6): spec.priority: is required", "bad.yaml: document 3 (line 11): kind: unknown kind \"Topic\""}},
		{"yaml syntax error", valid + "---\napiVersion: gateway/v2\nkind: GatewayGroup\n metadata: {name: h}\n",
			[]string{"bad.yaml: document 2: yaml: line 8:"}},
		{"duplicate key", "apiVersion: gateway/v2\nkind: GatewayGroup\nkind: GatewayGroup\nmetadata: {name: g}\n",
			[]string{`bad.yaml: document 1 (line 1): line 3: key "kind" appears twice`}},
		{"same resource twice", valid + "---\n" + valid,
			[]string{"bad.yaml: document 2 (line 6): GatewayGroup/g is already defined at " + filepath.Join(dir, "bad.yaml") + ": document 1 (line 1)"}},
		{"bad item of a JSON array", `[{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"g"},"spec":{}},
 {"apiVersion":"gateway/v2","kind":"AliasTopic","metadata":{"name":"a","vCluster":"vc-a"},"spec":{"physicalName":"no spaces"}}]`,
			[]string{"bad.yaml: document 1, item 2 (line 2): spec.physicalName:"}},
		{"only empty documents", "---\n# nothing\n---\n", []string{"no resources in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			file := writeFile(t, dir, "bad.yaml", tc.content)
			_, stderr := n.cli(t, 1, "apply", "-f", file)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if got := n.seen(); len(got) != 0 {
				t.Errorf("requests sent despite invalid input: %v", got)
			}
		})
	}
}

func TestApplyDirectoryAndMissingFile(t *testing.T) {
	n := newNode(t)
	dir := t.TempDir()
	writeFile(t, dir, "b.json", `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"from-json"},"spec":{}}`)
	writeFile(t, dir, "a.yml", "apiVersion: gateway/v2\nkind: GatewayGroup\nmetadata: {name: from-yml}\nspec: {}\n")
	writeFile(t, dir, "notes.txt", "not a resource")
	stdout, _ := n.cli(t, 0, "apply", "-f", dir)
	if want := "GatewayGroup/from-yml: CREATED\nGatewayGroup/from-json: CREATED\n"; stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	_, stderr := n.cli(t, 1, "apply", "-f", dir, "-f", filepath.Join(dir, "missing.yaml"))
	if !strings.Contains(stderr, "missing.yaml: no such file") || !strings.Contains(stderr, "nothing was sent") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	_, stderr = n.cli(t, 1, "apply", "-f", t.TempDir())
	if !strings.Contains(stderr, "no *.yaml, *.yml or *.json files") {
		t.Fatalf("stderr:\n%s", stderr)
	}
}

func TestApplyStopsAtAPIError(t *testing.T) {
	n := newNode(t)
	// Both documents are valid, but the node refuses to store the second:
	// it takes more than the 1 MiB a request body may have.
	big := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"big"},"spec":{"pluginClass":"p","priority":1,"config":{"x":"` +
		strings.Repeat("x", 1<<20) + `"}}}`
	file := writeFile(t, "", "two.yaml", "apiVersion: gateway/v2\nkind: GatewayGroup\nmetadata: {name: g}\nspec: {}\n---\n"+big+"\n")
	stdout, stderr := n.cli(t, 1, "apply", "-f", file)
	if stdout != "GatewayGroup/g: CREATED\n" {
		t.Fatalf("stdout: %s", stdout)
	}
	for _, w := range []string{"two.yaml: document 2 (line 6): Interceptor/big: the admin API answered 400 Bad Request: request body larger than 1 MiB",
		"the resource before it was applied and stays applied"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
}
