package server

import (
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/pipeline"
	_ "github.com/strait-gateway/strait/plugins/catalog" // every plugin
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/store"
)

// openPipeline compiles the config topic's interceptors, now and on every
// change.
func (s *Server) openPipeline() {
	node := interceptor.Node{Version: "(devel)"}
	node.Host, _ = os.Hostname()
	if bi, ok := debug.ReadBuildInfo(); ok {
		node.Version = bi.Main.Version
	}
	actions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strait_interceptor_actions_total",
		Help: "Actions taken by interceptors, by interceptor, plugin and action.",
	}, []string{"interceptor", "plugin", "action"})
	s.metrics.Registry.MustRegister(actions)
	s.pipeline = pipeline.New(pipeline.Config{
		Log:      s.log.Named("interceptor"),
		Reporter: &actionLog{log: sampled(s.log.Named("interceptor")), actions: actions, audit: s.audit},
		Limits:   s.limits,
		Node:     node,
		KeyStore: s.keyStore(),
	})
	s.config.Watch(func(snap *store.Snapshot[*resource.Resource]) { s.pipeline.Apply(snap.Generation, snap.Entries) })
	snap := s.config.Snapshot()
	s.pipeline.Apply(snap.Generation, snap.Entries)
}

// sampled keeps a policy that acts on every request (a rate limit, a
// client-id rule) from flooding the log: per second the first ten action
// lines are written, then every hundredth. The metric counts them all.
func sampled(log *zap.Logger) *zap.Logger {
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, 10, 100)
	}))
}

// actionLog reports interceptor actions to the metrics, the audit log and
// (sampled) the log. What AuditPlugin records goes to the audit log only.
type actionLog struct {
	log     *zap.Logger
	actions *prometheus.CounterVec
	audit   audit.Emitter
}

func (a *actionLog) Report(e interceptor.Event) {
	a.actions.WithLabelValues(e.Interceptor, e.Plugin, string(e.Action)).Inc()
	a.audit.Emit(interceptorEvent(e))
	if e.Action == interceptor.Audited {
		return
	}
	a.log.Info("interceptor action",
		zap.String("action", string(e.Action)), zap.String("interceptor", e.Interceptor), zap.String("plugin", e.Plugin),
		zap.String("api", kmsg.NameForKey(e.Key)), zap.String("topic", e.Topic),
		zap.String("vcluster", e.VCluster), zap.String("username", e.Username), zap.String("clientIp", e.ClientIP),
		zap.String("reason", e.Reason))
}
