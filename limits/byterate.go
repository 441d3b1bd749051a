package limits

import (
	"fmt"
	"time"

	"github.com/strait-gateway/strait/interceptor"
)

// ByteRate caps the bytes each principal (virtual cluster and user) moves
// per second across the gateway cluster, for the produce and consume rate
// policies. Going over throttles the request for as long as the cap takes
// to pay for the excess, as Kafka's own quotas do (BLOCK), or only reports
// it (INFO); nothing is dropped.
type ByteRate struct {
	plugin, what string
	limit        int64
	action       interceptor.Action
	limits       interceptor.Limits
}

// NewByteRate validates a rate policy's maximumBytesPerSecond and action.
// what names the bytes in reports ("produced", "fetched").
func NewByteRate(plugin, what string, maxPerSecond int64, a interceptor.Action, env interceptor.Env) (*ByteRate, error) {
	if maxPerSecond <= 0 {
		return nil, interceptor.Invalid("maximumBytesPerSecond", "is required and must be positive")
	}
	if err := interceptor.CheckAction("action", a, interceptor.Block, interceptor.Info); err != nil {
		return nil, err
	}
	return &ByteRate{plugin: plugin, what: what, limit: maxPerSecond, action: a.Or(interceptor.Block), limits: For(env)}, nil
}

// Count adds n bytes to the call's principal and acts when it is over.
func (r *ByteRate) Count(c *interceptor.Call, n int64) {
	if n == 0 {
		return
	}
	bucket := r.plugin + "\x00" + c.Interceptor() + "\x00" + c.Conn.VCluster + "\x00" + c.Conn.Username
	excess := Over(r.limits, bucket, n, r.limit, time.Second)
	if excess == 0 {
		return
	}
	reason := fmt.Sprintf("over %d %s bytes per second", r.limit, r.what)
	if r.action == interceptor.Info {
		c.Report(interceptor.Info, "", reason)
		return
	}
	c.Throttle(throttleFor(excess, r.limit), "", reason)
}

// throttleFor returns how long to hold back a request that took the count
// over by excess bytes: the time the limit takes to pay for the excess,
// within [10ms, 5s].
func throttleFor(excess, limit int64) time.Duration {
	d := time.Duration(float64(excess) / float64(limit) * float64(time.Second))
	return min(max(d, 10*time.Millisecond), 5*time.Second)
}
