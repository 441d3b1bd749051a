package limits

import (
	"testing"
	"time"
)

// TestThrottleFor: the throttle pays for the excess at the limit's rate,
// within its bounds.
func TestThrottleFor(t *testing.T) {
	for _, c := range []struct {
		excess, limit int64
		want          time.Duration
	}{
		{500, 1000, 500 * time.Millisecond},
		{1, 1000, 10 * time.Millisecond},
		{1 << 40, 1000, 5 * time.Second},
	} {
		if got := throttleFor(c.excess, c.limit); got != c.want {
			t.Errorf("throttleFor(%d, %d) = %v, want %v", c.excess, c.limit, got, c.want)
		}
	}
}
