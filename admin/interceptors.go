package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/vcluster"
)

// Resolver tells which interceptors apply to a connection.
type Resolver interface {
	Resolve(vc, user string, groups []string) []*resource.Resource
}

// WithInterceptors enables POST /gateway/v2/interceptor/resolve.
func (a *API) WithInterceptors(r Resolver) *API {
	a.resolver = r
	return a
}

// interceptorRoute serves the plugin catalogue and interceptor resolution;
// false when rest is neither.
func (a *API) interceptorRoute(w http.ResponseWriter, r *http.Request, rest string) bool {
	switch {
	case rest == "interceptor/resolve" && r.Method == http.MethodPost && a.resolver != nil:
		a.resolve(w, r)
	case rest == "plugin" && r.Method == http.MethodGet:
		var out []pluginDoc
		for _, p := range interceptor.Plugins() {
			out = append(out, describePlugin(p))
		}
		writeJSON(w, http.StatusOK, out)
	case strings.HasPrefix(rest, "plugin/") && r.Method == http.MethodGet:
		p, ok := interceptor.Lookup(strings.TrimPrefix(rest, "plugin/"))
		if !ok {
			writeError(w, http.StatusNotFound, "no plugin "+strings.TrimPrefix(rest, "plugin/"))
			return true
		}
		writeJSON(w, http.StatusOK, describePlugin(p))
	default:
		return false
	}
	return true
}

// pluginDoc is one plugin as GET /gateway/v2/plugin shows it.
type pluginDoc struct {
	Name    string         `json:"name"`
	Classes []string       `json:"pluginClasses"`
	Summary string         `json:"summary"`
	Schema  map[string]any `json:"configSchema"`
	README  string         `json:"readme"`
}

func describePlugin(p *interceptor.Plugin) pluginDoc {
	return pluginDoc{Name: p.Name, Classes: append([]string{p.Name}, p.Classes...), Summary: p.Summary, Schema: p.Schema(), README: p.README}
}

// resolve answers which interceptors apply to {vCluster, groups, username},
// in the order they run.
func (a *API) resolve(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var q struct {
		VCluster string   `json:"vCluster"`
		Groups   []string `json:"groups"`
		Username string   `json:"username"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		writeError(w, http.StatusBadRequest, "expect {vCluster, groups, username}: "+err.Error())
		return
	}
	if q.VCluster == "" {
		q.VCluster = vcluster.Passthrough
	}
	out := []json.RawMessage{}
	for _, res := range a.resolver.Resolve(q.VCluster, q.Username, q.Groups) {
		out = append(out, res.Raw)
	}
	writeJSON(w, http.StatusOK, out)
}
