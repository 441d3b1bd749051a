package cli

import (
	"strings"
	"testing"
)

func TestDeleteByName(t *testing.T) {
	n := newNode(t)
	n.cli(t, 0, "apply", "-f", writeFile(t, "", "all.yaml", outOfOrder))
	n.seen()
	stdout, _ := n.cli(t, 0, "delete", "group", "group-a")
	if stdout != "GatewayGroup/group-a: DELETED\n" {
		t.Fatalf("stdout: %s", stdout)
	}
	if got := n.seen(); len(got) != 1 || got[0] != "DELETE /gateway/v2/group/group-a" {
		t.Fatalf("requests: %v", got)
	}
	if code, _ := n.get(t, "/gateway/v2/group/group-a"); code != 404 {
		t.Fatalf("after delete GET answered %d", code)
	}
	_, stderr := n.cli(t, 1, "delete", "group", "group-a")
	if !strings.Contains(stderr, "GatewayGroup/group-a not found") {
		t.Fatalf("second delete: %s", stderr)
	}
	// A vCluster identifies a service account exactly.
	_, stderr = n.cli(t, 1, "delete", "service-account", "sa-app", "--vcluster", "vc-b")
	if !strings.Contains(stderr, "GatewayServiceAccount/sa-app (vCluster vc-b) not found") {
		t.Fatalf("wrong vCluster: %s", stderr)
	}
	stdout, _ = n.cli(t, 0, "delete", "service-account", "sa-app", "--vcluster", "vc-a")
	if stdout != "GatewayServiceAccount/sa-app (vCluster vc-a): DELETED\n" {
		t.Fatalf("stdout: %s", stdout)
	}
}

func TestDeleteSameNameInTwoScopes(t *testing.T) {
	n := newNode(t)
	global := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"limit"},"spec":{"pluginClass":"p","priority":1}}`
	forBob := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"limit","scope":{"username":"bob"}},"spec":{"pluginClass":"p","priority":2}}`
	n.put(t, "/gateway/v2/interceptor", global)
	n.put(t, "/gateway/v2/interceptor", forBob)

	_, stderr := n.cli(t, 1, "delete", "interceptor", "limit")
	if !strings.Contains(stderr, "several Interceptor resources are named limit; choose one with --vcluster, --group or --username, or --exact") {
		t.Fatalf("ambiguous delete: %s", stderr)
	}
	_, stderr = n.cli(t, 1, "delete", "interceptor", "limit", "--username", "alice")
	if !strings.Contains(stderr, "Interceptor/limit (scope username=alice) not found") {
		t.Fatalf("wrong scope: %s", stderr)
	}
	if code, out := n.get(t, "/gateway/v2/interceptor?name=limit"); code != 200 || out != "["+forBob+","+global+"]" { // sorted by key
		t.Fatalf("failed deletes changed state: %s", out)
	}

	stdout, _ := n.cli(t, 0, "delete", "interceptor", "limit", "--username", "bob")
	if stdout != "Interceptor/limit (scope username=bob): DELETED\n" {
		t.Fatalf("stdout: %s", stdout)
	}
	if code, out := n.get(t, "/gateway/v2/interceptor?name=limit"); code != 200 || out != "["+global+"]" {
		t.Fatalf("after the scoped delete: %s", out)
	}

	// --exact without scope flags is the interceptor without a scope.
	n.put(t, "/gateway/v2/interceptor", forBob)
	stdout, _ = n.cli(t, 0, "delete", "interceptor", "limit", "--exact")
	if stdout != "Interceptor/limit: DELETED\n" {
		t.Fatalf("stdout: %s", stdout)
	}
	if code, out := n.get(t, "/gateway/v2/interceptor?name=limit"); code != 200 || out != "["+forBob+"]" {
		t.Fatalf("after the exact delete: %s", out)
	}
}

func TestDeleteFiles(t *testing.T) {
	n := newNode(t)
	file := writeFile(t, "", "all.yaml", outOfOrder)
	n.cli(t, 0, "apply", "-f", file)
	n.seen()

	stdout, _ := n.cli(t, 0, "delete", "-f", file)
	var want []string
	for i := len(appliedLines) - 1; i >= 0; i-- { // reverse kind order; within a kind, file order
		want = append(want, appliedLines[i])
	}
	want[0], want[1] = want[1], want[0]
	if got := withResult(want, "DELETED"); stdout != got {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, got)
	}
	for _, r := range n.seen() {
		if !strings.HasPrefix(r, "DELETE ") {
			t.Errorf("unexpected request %s", r)
		}
	}
	for _, p := range appliedPaths {
		if code, out := n.get(t, "/gateway/v2/"+p); code != 200 || out != "[]" {
			t.Errorf("after delete -f GET %s: %d %s", p, code, out)
		}
	}

	// Deleting again reports each missing resource, tries them all, and fails.
	stdout, stderr := n.cli(t, 1, "delete", "-f", file)
	if stdout != "" || strings.Count(stderr, ": not found\n") != len(appliedLines) ||
		!strings.Contains(stderr, "7 of 7 resources were not found") {
		t.Fatalf("second delete -f:\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	if got := n.seen(); len(got) != len(appliedLines) {
		t.Fatalf("second delete -f sent %d requests", len(got))
	}
}
