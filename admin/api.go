// Package admin serves Strait's admin HTTP API (gateway/v2): authenticated
// upserts, reads and deletes of the declarative resources, all written to
// and read from the config topic, so every node serves the same state.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/store"
)

// State is the config store the API reads and writes.
type State interface {
	Snapshot() *store.Snapshot[*resource.Resource]
	Put(ctx context.Context, key, value []byte) error
}

// API is the admin HTTP API.
type API struct {
	state State
	users []User
	log   *zap.Logger
	creds Credentials // nil: no token or SCRAM endpoints
	// resolver answers interceptor resolution; nil: no such endpoint.
	resolver Resolver
	audit    audit.Emitter
	// concentrated lists concentrated topics; nil: no such endpoint.
	concentrated ConcentratedTopics
}

// New returns the API over state for the given users.
func New(state State, users []User, log *zap.Logger) *API {
	return &API{state: state, users: users, log: log, audit: audit.Discard}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /gateway/v2/docs", a.docs)
	mux.Handle("/gateway/v2/", a.auth(http.HandlerFunc(a.route)))
}

// apiError is the JSON error body: a short title and a message naming the
// field at fault.
type apiError struct {
	Title string `json:"title"`
	Msg   string `json:"msg"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Title: http.StatusText(code), Msg: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	// Documents come back byte for byte as stored, so a GET fed back to
	// PUT is NOT_CHANGED even when it holds <, > or &.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

type userKey struct{}

func (a *API) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := a.authenticate(r)
		if !ok {
			name, _, given := r.BasicAuth()
			reason := "invalid admin API credentials"
			if !given {
				reason = "no admin API credentials"
			}
			a.refused(r, name, reason)
			w.Header().Set("WWW-Authenticate", `Basic realm="strait"`)
			writeError(w, http.StatusUnauthorized, "valid admin API credentials are required")
			return
		}
		if r.Method != http.MethodGet && !u.Admin {
			a.refused(r, u.Username, "read-only user may not "+r.Method+" "+r.URL.Path)
			writeError(w, http.StatusForbidden, "user "+u.Username+" may only read")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

// route dispatches /gateway/v2/{kind}[/{name}].
func (a *API) route(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/gateway/v2/"), "/")
	if a.credentialRoute(w, r, rest) || a.interceptorRoute(w, r, rest) || a.concentrationRoute(w, r, rest) {
		return
	}
	path, name, _ := strings.Cut(rest, "/")
	kind, ok := resource.KindForPath(path)
	if !ok {
		writeError(w, http.StatusNotFound, "no such endpoint: /gateway/v2/"+rest)
		return
	}
	switch {
	case r.Method == http.MethodPut && name == "":
		a.put(w, r, kind)
	case r.Method == http.MethodGet && name == "":
		writeJSON(w, http.StatusOK, a.list(kind, r.URL.Query(), ""))
	case r.Method == http.MethodGet:
		a.getOne(w, r, kind, name)
	case r.Method == http.MethodDelete:
		a.delete(w, r, kind, name)
	default:
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not supported on "+r.URL.Path)
	}
}

const maxBody = 1 << 20

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errors.New("request body larger than 1 MiB")
	}
	return b, nil
}

// upsertResult is a PUT's answer.
type upsertResult struct {
	Resource     json.RawMessage `json:"resource"`
	UpsertResult string          `json:"upsertResult"`
}

func (a *API) put(w http.ResponseWriter, r *http.Request, kind string) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := resource.Parse(body, kind)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	result := "CREATED"
	var before []byte
	if old, ok := a.state.Snapshot().Entries[string(res.Key())]; ok {
		result, before = "UPDATED", old.Raw
		if bytes.Equal(old.Raw, res.Raw) {
			result = "NOT_CHANGED"
		}
	}
	if result != "NOT_CHANGED" && r.URL.Query().Get("dryMode") != "true" {
		if !a.write(w, r, res.Key(), res.Raw) {
			return
		}
		a.log.Info("resource upserted", zap.String("kind", kind), zap.ByteString("key", res.Key()),
			zap.String("result", result), zap.String("by", caller(r)))
		a.changed(r, result, audit.ResourceRef{Kind: kind, Name: res.Name, Key: string(res.Key())}, before, res.Raw)
	}
	writeJSON(w, http.StatusOK, upsertResult{Resource: res.Raw, UpsertResult: result})
}

// write puts a record and reports failures; it returns false when it wrote
// an error response.
func (a *API) write(w http.ResponseWriter, r *http.Request, key, value []byte) bool {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	err := a.state.Put(ctx, key, value)
	var re *resource.Error
	switch {
	case err == nil:
		return true
	case errors.As(err, &re):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		a.log.Error("config topic write failed", zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, "the config topic could not be written: "+err.Error())
	}
	return false
}

func caller(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(User)
	return u.Username
}

// list returns the resources of kind matching the query's identity filters
// (name, vCluster, group, username), sorted by key.
func (a *API) list(kind string, q map[string][]string, name string) []json.RawMessage {
	want := map[string]string{}
	for param, vals := range q {
		switch strings.ToLower(param) {
		case "name":
			want["name"] = vals[0]
		case "vcluster":
			want["vCluster"] = vals[0]
		case "group":
			want["group"] = vals[0]
		case "username":
			want["username"] = vals[0]
		}
	}
	if name != "" {
		want["name"] = name
	}
	var keys []string
	entries := a.state.Snapshot().Entries
	for key, res := range entries {
		if res.Kind == kind && matches(res.Identity, want) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	out := make([]json.RawMessage, 0, len(keys))
	for _, k := range keys {
		out = append(out, entries[k].Raw)
	}
	return out
}

// matches reports whether an identity has every wanted field; scope fields
// of interceptors are looked up inside the scope.
func matches(identity map[string]any, want map[string]string) bool {
	scope, _ := identity["scope"].(map[string]any)
	for field, v := range want {
		got, ok := identity[field]
		if !ok && scope != nil {
			got, ok = scope[field]
		}
		if s, _ := got.(string); !ok || s != v {
			return false
		}
	}
	return true
}

func (a *API) getOne(w http.ResponseWriter, r *http.Request, kind, name string) {
	found := a.list(kind, r.URL.Query(), name)
	switch len(found) {
	case 0:
		writeError(w, http.StatusNotFound, kind+" "+name+" not found")
	case 1:
		writeJSON(w, http.StatusOK, found[0])
	default:
		writeError(w, http.StatusConflict, "several resources of kind "+kind+" are named "+name+"; narrow the request with vCluster, group or username parameters")
	}
}

// delete removes one resource, named in the path and, where the name alone
// is not unique, identified by the rest of its metadata in the body.
func (a *API) delete(w http.ResponseWriter, r *http.Request, kind, name string) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var target *resource.Resource
	entries := a.state.Snapshot().Entries
	if len(bytes.TrimSpace(body)) > 0 {
		key, err := identityKey(kind, name, body)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		target = entries[string(key)]
	} else {
		var candidates []*resource.Resource
		for _, res := range entries {
			if res.Kind == kind && res.Name == name {
				candidates = append(candidates, res)
			}
		}
		if len(candidates) > 1 {
			writeError(w, http.StatusConflict, "several resources of kind "+kind+" are named "+name+"; send the identity (e.g. the scope or vCluster) as the request body")
			return
		}
		if len(candidates) == 1 {
			target = candidates[0]
		}
	}
	if target == nil {
		writeError(w, http.StatusNotFound, kind+" "+name+" not found")
		return
	}
	if !a.write(w, r, target.Key(), nil) {
		return
	}
	a.log.Info("resource deleted", zap.String("kind", kind), zap.ByteString("key", target.Key()), zap.String("by", caller(r)))
	a.changed(r, "DELETED", audit.ResourceRef{Kind: kind, Name: target.Name, Key: string(target.Key())}, target.Raw, nil)
	w.WriteHeader(http.StatusNoContent)
}

// identityKey builds the canonical key from a DELETE body: either a
// resource's metadata (with or without name) or an interceptor's scope.
func identityKey(kind, name string, body []byte) ([]byte, error) {
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, &resource.Error{Field: "body", Msg: "expect a JSON object with the resource's identity: " + err.Error()}
	}
	if m, ok := meta["metadata"]; ok { // a whole document
		meta = nil
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, &resource.Error{Field: "metadata", Msg: err.Error()}
		}
	}
	if kind == "Interceptor" {
		if _, ok := meta["scope"]; !ok && len(meta) > 0 && meta["name"] == nil {
			// The body is the scope itself.
			scope, _ := json.Marshal(meta)
			meta = map[string]json.RawMessage{"scope": scope}
		}
	}
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	if name != "" {
		meta["name"], _ = json.Marshal(name)
	}
	metaJSON, _ := json.Marshal(meta)
	return resource.IdentityKey(kind, metaJSON)
}
