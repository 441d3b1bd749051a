package cli

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/strait-gateway/strait/admin/admintest"
	"github.com/strait-gateway/strait/resource"
)

// node is the real admin API over a config store in a kfake cluster, as
// a Strait node serves it, recording the requests that reach it.
type node struct {
	url      string
	mu       sync.Mutex
	requests []string // "METHOD /path?query"
}

func newNode(t *testing.T) *node {
	t.Helper()
	mux := admintest.Handler(t)
	n := &node{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.requests = append(n.requests, r.Method+" "+r.URL.RequestURI())
		n.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	n.url = srv.URL
	return n
}

// seen returns the requests so far and forgets them.
func (n *node) seen() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	r := n.requests
	n.requests = nil
	return r
}

// adminEnv is the environment of an admin user of n.
func (n *node) adminEnv() map[string]string {
	return map[string]string{"STRAIT_URL": n.url, "STRAIT_USER": "admin", "STRAIT_PASSWORD": "admin-password"}
}

// run runs the CLI with env as the whole environment.
func run(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = Run(args, lookup, &out, &errOut)
	return code, out.String(), errOut.String()
}

// cli runs the CLI as the admin user of n and fails the test unless the
// exit code is want.
func (n *node) cli(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := run(n.adminEnv(), args...)
	if code != want {
		t.Fatalf("strait %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// get fetches a path of n's API directly, as admin.
func (n *node) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.url+path, nil)
	req.SetBasicAuth("admin", "admin-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n.seen() // not the CLI's requests
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// put stores a document directly, as a curl user would.
func (n *node) put(t *testing.T, path, doc string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", n.url+path, strings.NewReader(doc))
	req.SetBasicAuth("admin", "admin-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT %s: %d", path, resp.StatusCode)
	}
	n.seen()
}

// writeFile writes a file in a test directory and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsage(t *testing.T) {
	env := map[string]string{"STRAIT_PASSWORD": "env-secret-password"}
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"help"}, 0, "strait apply -f FILE|DIR", ""},
		{[]string{"-h"}, 0, "virtual-cluster", ""},
		{[]string{"--help"}, 0, "strait get KIND [NAME]", ""},
		{[]string{"help", "apply"}, 0, "-dry-run", ""},
		{[]string{"apply", "-h"}, 0, "Usage: strait apply -f FILE|DIR", ""},
		{[]string{"get", "--help"}, 0, "-vcluster", ""},
		{[]string{"help", "delete"}, 0, "-exact", ""},
		{nil, 2, "", "no command"},
		{[]string{"serve"}, 2, "", `unknown command "serve"`},
		{[]string{"apply"}, 2, "", "no files"},
		{[]string{"apply", "x.yaml"}, 2, "", `unexpected argument "x.yaml"; name files with -f`},
		{[]string{"get"}, 2, "", "which kind?"},
		{[]string{"get", "group", "a", "b"}, 2, "", `unexpected argument "b"`},
		{[]string{"get", "group", "-o", "xml"}, 2, "", `-o "xml": expect yaml or json`},
		{[]string{"get", "group", "--colour"}, 2, "", "flag provided but not defined: -colour"},
		{[]string{"get", "group", "--timeout", "soon"}, 2, "", "invalid value"},
		{[]string{"get", "group", "--url", "ftp://x"}, 2, "", `admin API URL "ftp://x"`},
		{[]string{"delete", "group"}, 2, "", "expect KIND NAME"},
		{[]string{"delete", "-f", "x.yaml", "group", "g"}, 2, "", "either -f FILE or KIND NAME"},
		{[]string{"delete", "group", "g", "--username", "bob"}, 2, "", "metadata.username: unknown field"},
	} {
		code, stdout, stderr := run(env, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("strait %q: exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q",
				tc.args, code, tc.code, stdout, stderr, tc.stdout, tc.stderr)
		}
		if strings.Contains(stdout+stderr, "env-secret-password") {
			t.Errorf("strait %q printed the password", tc.args)
		}
	}
}

func TestResolveKind(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"Interceptor", "Interceptor"},
		{"interceptors", "Interceptor"},
		{"INTERCEPTOR", "Interceptor"},
		{"service-account", "GatewayServiceAccount"},
		{"service-accounts", "GatewayServiceAccount"},
		{"gatewayserviceaccount", "GatewayServiceAccount"},
		{"group", "GatewayGroup"},
		{"GatewayGroups", "GatewayGroup"},
		{"virtual-cluster", "VirtualCluster"},
		{"VirtualClusters", "VirtualCluster"},
		{"concentration-rule", "ConcentrationRule"},
		{"alias-topics", "AliasTopic"},
		{"topic", ""},
		{"groupss", ""},
		{"", ""},
	} {
		got, err := resolveKind("get", tc.arg)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("resolveKind(%q) = %q, %v; want %q", tc.arg, got, err, tc.want)
		}
	}
}

func TestUnknownKindListsKinds(t *testing.T) {
	n := newNode(t)
	code, _, stderr := run(n.adminEnv(), "get", "topics")
	if code != 2 || !strings.Contains(stderr, `unknown kind "topics"`) {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	for _, k := range resource.KindNames() {
		if !strings.Contains(stderr, k+" ("+resource.PathForKind(k)+")") {
			t.Errorf("stderr does not list %s:\n%s", k, stderr)
		}
	}
	if got := n.seen(); len(got) != 0 {
		t.Errorf("requests sent for an unknown kind: %v", got)
	}
}

func TestCredentialErrors(t *testing.T) {
	n := newNode(t)
	doc := writeFile(t, "", "g.yaml", "apiVersion: gateway/v2\nkind: GatewayGroup\nmetadata: {name: g}\nspec: {}\n")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"wrong password from the environment", map[string]string{"STRAIT_URL": n.url, "STRAIT_USER": "admin", "STRAIT_PASSWORD": "wrong-secret-1"},
			[]string{"get", "group"}, []string{"401 Unauthorized", `refused user "admin" (from STRAIT_USER) with the password from STRAIT_PASSWORD`}},
		{"wrong password from flags", map[string]string{"STRAIT_URL": n.url, "STRAIT_USER": "viewer", "STRAIT_PASSWORD": "viewer-password"},
			[]string{"apply", "-f", doc, "--user", "admin", "--password", "wrong-secret-1"},
			[]string{"401 Unauthorized", `refused user "admin" (from --user) with the password from --password`, "nothing was applied"}},
		{"no credentials", map[string]string{"STRAIT_URL": n.url},
			[]string{"get", "group", "g"}, []string{"requires credentials (401 Unauthorized)", "STRAIT_USER and STRAIT_PASSWORD"}},
		{"read-only user applies", map[string]string{"STRAIT_URL": n.url, "STRAIT_USER": "viewer", "STRAIT_PASSWORD": "viewer-password"},
			[]string{"apply", "-f", doc}, []string{`user "viewer" may only read (403 Forbidden)`, "admin user", "nothing was applied"}},
		{"read-only user deletes", map[string]string{"STRAIT_URL": n.url, "STRAIT_USER": "viewer", "STRAIT_PASSWORD": "viewer-password"},
			[]string{"delete", "group", "g"}, []string{`user "viewer" may only read (403 Forbidden)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(tc.env, tc.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stdout+stderr, "wrong-secret-1") || strings.Contains(stdout+stderr, "viewer-password") {
				t.Errorf("a password was printed:\n%s%s", stdout, stderr)
			}
		})
	}
	if code, out := n.get(t, "/gateway/v2/group"); code != 200 || out != "[]" {
		t.Fatalf("refused requests changed state: %d %s", code, out)
	}
	// The read-only user may read.
	code, stdout, stderr := run(map[string]string{"STRAIT_URL": n.url, "STRAIT_USER": "viewer", "STRAIT_PASSWORD": "viewer-password"}, "get", "groups")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "no GatewayGroup resources") {
		t.Fatalf("viewer get: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	n := newNode(t)
	env := n.adminEnv()
	env["STRAIT_URL"] = "http://" + addr
	code, _, stderr := run(env, "get", "interceptor")
	if code != 1 || !strings.Contains(stderr, "cannot reach the admin API at http://"+addr+" (set --url or STRAIT_URL)") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	// --url wins over STRAIT_URL; a URL without a scheme means http.
	code, _, stderr = run(env, "get", "interceptor", "--url", strings.TrimPrefix(n.url, "http://"))
	if code != 0 {
		t.Fatalf("with --url: exit %d, stderr %s", code, stderr)
	}
}
