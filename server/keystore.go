package server

import (
	"context"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/keystore"
	"github.com/strait-gateway/strait/store"
)

// KeysTopic is the name of the compacted topic of gateway-kms:// data
// keys; tombstoning its records crypto-shreds them.
func (c Config) KeysTopic() string { return c.internalTopic("keys") }

// openKeyStore creates the keys topic when missing and follows it. When
// it cannot be opened the node still serves: gateway-kms:// keys then fail
// on this node, which it logs.
func (s *Server) openKeyStore(ctx context.Context, cfg Config) {
	log := s.log.Named("keys")
	ks, err := keystore.Open(ctx, cfg.Backing.ClientOpts(), store.Config{
		Topic:             cfg.KeysTopic(),
		ReplicationFactor: cfg.ConfigReplicationFactor,
		Log:               log,
		Metrics:           s.metrics.Store,
	})
	if err != nil {
		log.Error("key store unavailable; gateway-kms:// keys fail on this node", zap.Error(err))
		return
	}
	s.keys = ks
}

// keyStore is what the interceptors get: nil, not a nil *keystore.Store,
// when the node has no key store.
func (s *Server) keyStore() encryption.KeyStore {
	if s.keys == nil {
		return nil
	}
	return s.keys
}
