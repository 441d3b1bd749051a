package interceptor

import "time"

// Limits counts events across every node of the gateway cluster, so a
// limit configured once holds for the whole cluster rather than per node.
type Limits interface {
	// Allow records n events in a bucket and reports whether the
	// cluster-wide count over the last window, these included, stays
	// within limit.
	Allow(bucket string, n, limit int64, window time.Duration) bool
}
