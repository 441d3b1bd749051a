package limits

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/interceptor"
)

// For returns the limits an interceptor counts with: env.Limits, or, when
// the node runs none, limits of this node alone that say so in the log the
// first time they are used. It does no I/O, so New may call it.
func For(env interceptor.Env) interceptor.Limits {
	if env.Limits != nil {
		return env.Limits
	}
	return &fallback{log: env.Log}
}

// fallback is node-local limits that warn once.
type fallback struct {
	log   *zap.Logger
	once  sync.Once
	local *Limits
}

// Allow counts on this node only.
func (f *fallback) Allow(bucket string, n, limit int64, window time.Duration) bool {
	return f.Count(bucket, n, window) <= limit
}

// Count counts on this node only.
func (f *fallback) Count(bucket string, n int64, window time.Duration) int64 {
	f.once.Do(func() {
		f.local = Local()
		if f.log != nil {
			f.log.Warn("no cluster-wide limits on this node; this interceptor's limit counts this node's traffic only")
		}
	})
	return f.local.Count(bucket, n, window)
}
