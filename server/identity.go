package server

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/identity"
	"github.com/strait-gateway/strait/store"
)

// openIdentity prepares client authentication: the secrets topic, the
// OAuth validator and the failure limiter.
func (s *Server) openIdentity(ctx context.Context, cfg Config) error {
	sec := cfg.Security
	if sec.Protocol == "" {
		sec.Protocol = identity.Plaintext
	}
	icfg := identity.Config{
		Protocol:          sec.Protocol,
		Keys:              sec.Keys,
		Mapping:           sec.Mapping,
		AccountRequired:   sec.AccountRequired,
		MandatoryVCluster: sec.MandatoryVCluster,
		Log:               s.log.Named("identity"),
	}
	if sec.MaxFailures > 0 {
		l, err := auth.NewFailureLimiter(sec.MaxFailures, sec.FailureWindow/time.Duration(sec.MaxFailures))
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		icfg.Limiter = l
	}
	if icfg.Mapping == nil {
		icfg.Mapping, _ = auth.ParseMappingRules("")
	}
	if sec.OAuth.JWKSURL != "" {
		v, err := auth.NewOAuthValidator(sec.OAuth)
		if err != nil {
			return fmt.Errorf("server: OAuth: %w", err)
		}
		icfg.OAuth = v
	}
	id, err := identity.Open(ctx, icfg, s.config, cfg.Backing.ClientOpts(), store.Config{
		Topic:             cfg.SecretsTopic(),
		ReplicationFactor: cfg.ConfigReplicationFactor,
		Log:               s.log.Named("secrets"),
		Metrics:           s.metrics.Store,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.identity = id
	return nil
}

// purgeRevocations drops revocations of tokens that have expired, hourly.
func (s *Server) purgeRevocations(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := s.identity.PurgeRevocations(ctx, now); err != nil {
				s.log.Warn("could not purge expired token revocations", zap.Error(err))
			}
		}
	}
}
