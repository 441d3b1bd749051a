package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strait-gateway/strait/admin"
	"github.com/strait-gateway/strait/admin/admintest"
	"github.com/strait-gateway/strait/resource"
)

func newAPI(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(admintest.Handler(t))
	t.Cleanup(srv.Close)
	return srv
}

type call struct {
	method, path, body string
	user, pass         string
}

func do(t *testing.T, srv *httptest.Server, c call) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	if c.user == "" {
		c.user, c.pass = "admin", "admin-password"
	}
	if c.user != "-" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const group = `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"group-a"},"spec":{"members":[{"name":"admin"}]}}`

func TestAuth(t *testing.T) {
	srv := newAPI(t)
	for _, tc := range []struct {
		c    call
		code int
	}{
		{call{method: "GET", path: "/gateway/v2/group", user: "-"}, 401},
		{call{method: "GET", path: "/gateway/v2/group", user: "admin", pass: "wrong-password"}, 401},
		{call{method: "GET", path: "/gateway/v2/group", user: "viewer", pass: "viewer-password"}, 200},
		{call{method: "PUT", path: "/gateway/v2/group", body: group, user: "viewer", pass: "viewer-password"}, 403},
		{call{method: "PUT", path: "/gateway/v2/group", body: group}, 200},
	} {
		if code, body := do(t, srv, tc.c); code != tc.code {
			t.Errorf("%s %s as %s: %d %s, want %d", tc.c.method, tc.c.path, tc.c.user, code, body, tc.code)
		}
	}
}

func TestUpsertLifecycle(t *testing.T) {
	srv := newAPI(t)
	upsert := func(body, query string) string {
		code, out := do(t, srv, call{method: "PUT", path: "/gateway/v2/group" + query, body: body})
		if code != 200 {
			t.Fatalf("PUT: %d %s", code, out)
		}
		var r struct{ UpsertResult string }
		_ = json.Unmarshal([]byte(out), &r)
		return r.UpsertResult
	}
	if got := upsert(group, "?dryMode=true"); got != "CREATED" {
		t.Fatalf("dry run: %s", got)
	}
	if code, _ := do(t, srv, call{method: "GET", path: "/gateway/v2/group/group-a"}); code != 404 {
		t.Fatalf("dry run wrote: GET answered %d", code)
	}
	if got := upsert(group, ""); got != "CREATED" {
		t.Fatalf("first PUT: %s", got)
	}
	if got := upsert(group, ""); got != "NOT_CHANGED" {
		t.Fatalf("same PUT: %s", got)
	}
	changed := strings.Replace(group, `"admin"`, `"admin2"`, 1)
	if got := upsert(changed, ""); got != "UPDATED" {
		t.Fatalf("changed PUT: %s", got)
	}
	code, out := do(t, srv, call{method: "GET", path: "/gateway/v2/group/group-a"})
	if code != 200 || !strings.Contains(out, "admin2") {
		t.Fatalf("GET: %d %s", code, out)
	}
	// What GET returns can be PUT back unchanged, even with characters an
	// HTML-safe encoder would escape.
	if got := upsert(strings.TrimSpace(out), ""); got != "NOT_CHANGED" {
		t.Fatalf("PUT of GET output: %s", got)
	}
	regex := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"i"},"spec":{"pluginClass":"p","priority":1,"config":{"topic":"<a>&b.*"}}}`
	if code, out := do(t, srv, call{method: "PUT", path: "/gateway/v2/interceptor", body: regex}); code != 200 {
		t.Fatalf("PUT with <>&: %d %s", code, out)
	}
	_, out = do(t, srv, call{method: "GET", path: "/gateway/v2/interceptor/i"})
	if code, again := do(t, srv, call{method: "PUT", path: "/gateway/v2/interceptor", body: strings.TrimSpace(out)}); code != 200 || !strings.Contains(again, "NOT_CHANGED") {
		t.Fatalf("PUT of GET output with <>&: %d %s (GET gave %s)", code, again, out)
	}
	if code, out := do(t, srv, call{method: "DELETE", path: "/gateway/v2/group/group-a"}); code != 204 {
		t.Fatalf("DELETE: %d %s", code, out)
	}
	if code, _ := do(t, srv, call{method: "DELETE", path: "/gateway/v2/group/group-a"}); code != 404 {
		t.Fatalf("second DELETE: %d", code)
	}
}

func TestValidationErrorsNameTheField(t *testing.T) {
	srv := newAPI(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/gateway/v2/interceptor", `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"i"},"spec":{"pluginClass":"p","priority":"x"}}`, "spec.priority"},
		{"/gateway/v2/interceptor", group, "kind"},
		{"/gateway/v2/service-account", `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"s"},"spec":{"type":"EXTERNAL"}}`, "spec.externalNames"},
	} {
		code, out := do(t, srv, call{method: "PUT", path: tc.path, body: tc.body})
		var e struct{ Title, Msg string }
		_ = json.Unmarshal([]byte(out), &e)
		if code != 400 || !strings.HasPrefix(e.Msg, tc.field) || e.Title == "" {
			t.Errorf("PUT %s: %d %s, want 400 naming %s", tc.path, code, out, tc.field)
		}
	}
	if code, out := do(t, srv, call{method: "DELETE", path: "/gateway/v2/group", body: `{"metadata":null}`}); code != 400 {
		t.Errorf("DELETE with null metadata: %d %s, want 400", code, out)
	}
	if code, _ := do(t, srv, call{method: "GET", path: "/gateway/v2/topics"}); code != 404 {
		t.Errorf("unknown endpoint answered %d", code)
	}
}

func TestSameNameDifferentScopes(t *testing.T) {
	srv := newAPI(t)
	global := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"limit"},"spec":{"pluginClass":"p","priority":100}}`
	forBob := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"limit","scope":{"username":"bob"}},"spec":{"pluginClass":"p","priority":100}}`
	for _, b := range []string{global, forBob} {
		if code, out := do(t, srv, call{method: "PUT", path: "/gateway/v2/interceptor", body: b}); code != 200 {
			t.Fatalf("PUT: %d %s", code, out)
		}
	}
	code, out := do(t, srv, call{method: "GET", path: "/gateway/v2/interceptor?name=limit"})
	var list []json.RawMessage
	if code != 200 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out := do(t, srv, call{method: "GET", path: "/gateway/v2/interceptor?username=bob"}); code != 200 || strings.Count(out, `"limit"`) != 1 {
		t.Fatalf("filtered list: %d %s", code, out)
	}
	if code, _ := do(t, srv, call{method: "GET", path: "/gateway/v2/interceptor/limit"}); code != 409 {
		t.Fatalf("ambiguous GET answered %d", code)
	}
	if code, _ := do(t, srv, call{method: "DELETE", path: "/gateway/v2/interceptor/limit"}); code != 409 {
		t.Fatalf("ambiguous DELETE answered %d", code)
	}
	if code, out := do(t, srv, call{method: "DELETE", path: "/gateway/v2/interceptor/limit", body: `{"username":"bob"}`}); code != 204 {
		t.Fatalf("scoped DELETE: %d %s", code, out)
	}
	code, out = do(t, srv, call{method: "GET", path: "/gateway/v2/interceptor/limit"})
	if code != 200 || strings.Contains(out, "bob") {
		t.Fatalf("after scoped delete: %d %s", code, out)
	}
}

func TestDocs(t *testing.T) {
	srv := newAPI(t)
	code, out := do(t, srv, call{method: "GET", path: "/gateway/v2/docs", user: "-"})
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if code != 200 || json.Unmarshal([]byte(out), &doc) != nil || doc.OpenAPI == "" {
		t.Fatalf("docs: %d %.200s", code, out)
	}
	for _, kind := range resource.KindNames() {
		if _, ok := doc.Paths["/gateway/v2/"+resource.PathForKind(kind)]; !ok {
			t.Errorf("docs lack %s", kind)
		}
	}
}

func TestParseUsers(t *testing.T) {
	if _, err := admin.ParseUsers(`[{"username":"a","password":"long-enough","admin":true}]`); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`nope`, `[{"username":"","password":"long-enough"}]`, `[{"username":"a","password":"short"}]`,
		`[{"username":"a","password":"long-enough"},{"username":"a","password":"long-enough"}]`} {
		if _, err := admin.ParseUsers(bad); err == nil {
			t.Errorf("%s accepted", bad)
		} else if strings.Contains(err.Error(), "long-enough") {
			t.Errorf("error leaks a password: %v", err)
		}
	}
}
