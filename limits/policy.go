package limits

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-gateway/strait/interceptor"
)

// Action is what a counting policy (connections, commits, joins) does with
// an event over its limit, as its config gives it: action and
// throttleTimeMs.
type Action struct {
	action   interceptor.Action
	throttle time.Duration
}

// NewAction validates a counting policy's action (BLOCK, the default,
// INFO or THROTTLE) and throttleTimeMs (default 100).
func NewAction(a interceptor.Action, throttleMs *int64) (Action, error) {
	if err := interceptor.CheckAction("action", a, interceptor.Block, interceptor.Info, interceptor.Throttle); err != nil {
		return Action{}, err
	}
	ms := int64(100)
	if throttleMs != nil {
		if *throttleMs < 0 {
			return Action{}, interceptor.Invalid("throttleTimeMs", "%d is negative", *throttleMs)
		}
		ms = *throttleMs
	}
	return Action{action: a.Or(interceptor.Block), throttle: time.Duration(ms) * time.Millisecond}, nil
}

// Over carries the action out for an event over the limit: INFO reports
// it, THROTTLE holds it back, BLOCK refuses it with POLICY_VIOLATION — a
// code clients do not retry at once.
func (a Action) Over(c *interceptor.Call, reason string) {
	switch a.action {
	case interceptor.Info:
		c.Report(interceptor.Info, "", reason)
	case interceptor.Throttle:
		c.Throttle(a.throttle, "", reason)
	default:
		c.Block(kerr.PolicyViolation.Code, "", reason)
	}
}
