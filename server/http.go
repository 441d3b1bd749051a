package server

import (
	"encoding/json"
	"net/http"

	"github.com/strait-gateway/strait/admin"
)

// routes serves the node's HTTP endpoints: liveness (the process answers),
// readiness (listeners open and the backing cluster reachable), Prometheus
// metrics, and the admin API. Health and metrics need no credentials: they
// carry no tenant data.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health/live", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "UP"})
	})
	mux.HandleFunc("GET /health/ready", func(w http.ResponseWriter, _ *http.Request) {
		listening, backing := s.gateway.Listening(), s.refresher.Healthy()
		status, code := "UP", http.StatusOK
		if !listening || !backing {
			status, code = "DOWN", http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{
			"status": status,
			"checks": map[string]bool{"listeners": listening, "backingCluster": backing},
		})
	})
	mux.Handle("GET /metrics", s.metrics.Handler())
	api := admin.New(s.config, s.cfg.AdminUsers, s.log.Named("admin")).WithCredentials(s.identity).WithInterceptors(s.pipeline).WithAudit(s.audit)
	if s.concentration != nil {
		api.WithConcentration(s.concentration)
	}
	api.Register(mux)
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
