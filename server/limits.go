package server

import (
	"context"
	"net"
	"strconv"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/limits"
	"github.com/strait-gateway/strait/store"
)

// LimitsTopic is the name of the topic where the nodes report the counts
// behind cluster-wide rate limits.
func (c Config) LimitsTopic() string { return c.internalTopic("limits") }

// startLimits starts the node's cluster-wide limits. When the reports
// topic cannot be opened the node still serves: its limits then count
// this node's events only, which it logs. cfg is the node's config with
// the backing cluster resolved (the embedded one included).
func (s *Server) startLimits(ctx context.Context, cfg Config) *limits.Limits {
	log := s.log.Named("limits")
	node := cfg.NodeID
	if node == "" {
		node = net.JoinHostPort(cfg.AdvertisedHost, strconv.Itoa(cfg.PortStart))
	}
	l, err := limits.Start(ctx, cfg.Backing.ClientOpts(), limits.Config{
		Node: node,
		Store: store.Config{
			Topic:             cfg.LimitsTopic(),
			ReplicationFactor: cfg.ConfigReplicationFactor,
			Log:               log,
			Metrics:           s.metrics.Store,
		},
		Log: log,
	})
	if err != nil {
		log.Error("cluster-wide limits unavailable; rate limits count this node's traffic only", zap.Error(err))
		return limits.Local()
	}
	return l
}
