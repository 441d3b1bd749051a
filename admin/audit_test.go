package admin_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strait-gateway/strait/admin/admintest"
	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/audit/audittest"
)

// maskingWithSecret is an interceptor whose config holds a registry
// password, which must never reach the audit log.
const maskingWithSecret = `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"mask"},"spec":{"pluginClass":"FieldLevelDataMasking","priority":1,"config":{
"schemaRegistryConfig":{"host":"http://127.0.0.1:1","additionalConfigs":{"basic.auth.credentials.source":"USER_INFO","basic.auth.user.info":"reg:hunter2-%s"}},
"policies":[{"name":"p","fields":["email"],"rule":{"type":"MASK_ALL"}}]}}}`

func TestAuditedChanges(t *testing.T) {
	rec := &audittest.Recorder{}
	srv := httptest.NewServer(admintest.AuditedHandler(t, rec))
	t.Cleanup(srv.Close)

	for _, c := range []call{
		{method: "PUT", path: "/gateway/v2/interceptor", body: strings.ReplaceAll(maskingWithSecret, "%s", "v1")},
		{method: "PUT", path: "/gateway/v2/interceptor", body: strings.ReplaceAll(maskingWithSecret, "%s", "v1")},              // NOT_CHANGED: no event
		{method: "PUT", path: "/gateway/v2/interceptor?dryMode=true", body: strings.ReplaceAll(maskingWithSecret, "%s", "v9")}, // dry run: no event
		{method: "PUT", path: "/gateway/v2/interceptor", body: strings.ReplaceAll(maskingWithSecret, "%s", "v2")},
		{method: "DELETE", path: "/gateway/v2/interceptor/mask"},
		{method: "PUT", path: "/gateway/v2/group", body: group, user: "viewer", pass: "viewer-password"},
		{method: "GET", path: "/gateway/v2/group", user: "admin", pass: "hunter2-guess"},
	} {
		do(t, srv, c)
	}

	changes := rec.Events(audit.AdminChanged)
	want := []struct{ result, before, after string }{{"CREATED", "", "v1"}, {"UPDATED", "v1", "v2"}, {"DELETED", "v2", ""}}
	if len(changes) != len(want) {
		t.Fatalf("%d change events, want %d: %+v", len(changes), len(want), changes)
	}
	for i, w := range want {
		d := changes[i].Data.(audit.AdminData)
		if d.Result != w.result || d.Caller != "admin" || d.Resource.Kind != "Interceptor" || d.Resource.Name != "mask" ||
			d.Resource.Key == "" || changes[i].Subject != d.Resource.Key {
			t.Fatalf("event %d: %+v", i, d)
		}
		if (d.Before == nil) != (w.before == "") || (d.After == nil) != (w.after == "") {
			t.Fatalf("event %d before/after presence: %s / %s", i, d.Before, d.After)
		}
		for _, doc := range []json.RawMessage{d.Before, d.After} {
			if doc != nil && !strings.Contains(string(doc), `"basic.auth.user.info":"[REDACTED]"`) {
				t.Fatalf("event %d: secret not redacted: %s", i, doc)
			}
		}
	}
	if d := changes[0].Data.(audit.AdminData); d.Method != "PUT" || d.Path != "/gateway/v2/interceptor" {
		t.Fatalf("method/path: %+v", d)
	}

	refused := rec.Events(audit.AuthFailed)
	if len(refused) != 2 {
		t.Fatalf("%d refusals, want 2: %+v", len(refused), refused)
	}
	if d := refused[0].Data.(audit.AuthData); d.Principal == nil || d.Principal.Username != "viewer" || !strings.Contains(d.Reason, "read-only") {
		t.Fatalf("read-only refusal: %+v", d)
	}
	if d := refused[1].Data.(audit.AuthData); d.Principal == nil || d.Principal.Username != "admin" || d.Reason != "invalid admin API credentials" {
		t.Fatalf("bad credentials refusal: %+v", d)
	}
	all, _ := json.Marshal(rec.Events())
	if strings.Contains(string(all), "hunter2") {
		t.Fatalf("a secret reached the audit log: %s", all)
	}
}
