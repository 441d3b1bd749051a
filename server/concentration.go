package server

import (
	"context"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/concentration"
	"github.com/strait-gateway/strait/store"
)

// TopicsTopic is the compacted registry of concentrated topics.
func (c Config) TopicsTopic() string { return c.internalTopic("topics") }

// OffsetsTopic is the compacted topic of the concentration offset index
// checkpoints.
func (c Config) OffsetsTopic() string { return c.internalTopic("offsets") }

// CommitsTopic is the compacted topic of consumer groups' offsets on
// concentrated topics.
func (c Config) CommitsTopic() string { return c.internalTopic("commits") }

// openConcentration reads the concentrated topics and their offset index.
// When it cannot, the node still serves, without concentrated topics,
// which it logs.
func (s *Server) openConcentration(ctx context.Context, cfg Config) {
	log := s.log.Named("concentration")
	c, err := concentration.Open(ctx, concentration.Config{
		ClientOpts: cfg.Backing.ClientOpts(),
		Topics:     store.Config{Topic: cfg.TopicsTopic(), ReplicationFactor: cfg.ConfigReplicationFactor, Log: log, Metrics: s.metrics.Store},
		Offsets:    store.Config{Topic: cfg.OffsetsTopic(), ReplicationFactor: cfg.ConfigReplicationFactor, Log: log.Named("index"), Metrics: s.metrics.Store},
		Commits:    store.Config{Topic: cfg.CommitsTopic(), ReplicationFactor: cfg.ConfigReplicationFactor, Log: log.Named("commits"), Metrics: s.metrics.Store},
		Config:     s.config,
		Log:        log,
	})
	if err != nil {
		log.Error("topic concentration unavailable on this node", zap.Error(err))
		return
	}
	s.concentration = c
}
