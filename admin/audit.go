package admin

import (
	"encoding/json"
	"net/http"

	"github.com/strait-gateway/strait/audit"
)

// WithAudit sends the API's changes and refused callers to the audit log.
func (a *API) WithAudit(e audit.Emitter) *API {
	a.audit = e
	return a
}

// changed records a change made through the API: result is what the API
// answered (CREATED, DELETED, ...), before and after the documents, nil
// where there is none. Secrets in them are redacted.
func (a *API) changed(r *http.Request, result string, ref audit.ResourceRef, before, after []byte) {
	d := audit.AdminData{Method: r.Method, Path: r.URL.Path, Caller: caller(r), Result: result, Resource: ref}
	if before != nil {
		d.Before = audit.Redact(before)
	}
	if after != nil {
		d.After = audit.Redact(after)
	}
	subject := ref.Key
	if subject == "" {
		subject = ref.Kind + "/" + ref.Name
	}
	a.audit.Emit(audit.Event{Type: audit.AdminChanged, Subject: subject, Data: d})
}

// document is v as JSON, for changed.
func document(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// refused records a caller the API turned away: bad credentials or a
// read-only user attempting a change.
func (a *API) refused(r *http.Request, username, reason string) {
	conn := audit.Connection{ID: "http-" + r.RemoteAddr, ClientAddress: r.RemoteAddr, Listener: r.Host}
	d := audit.AuthData{Connection: conn, Mechanism: "HTTP-BASIC", Reason: reason}
	if username != "" {
		d.Principal = &audit.Principal{Username: username}
	}
	a.audit.Emit(audit.Event{Type: audit.AuthFailed, Subject: conn.ID, Data: d})
}
