package catalog

// The rate and count limits, enforced across the gateway cluster.
import (
	_ "github.com/strait-gateway/strait/plugins/consumerratelimitingpolicy" // ConsumerRateLimitingPolicy
	_ "github.com/strait-gateway/strait/plugins/limitcommitoffsetpolicy"    // LimitCommitOffsetPolicy
	_ "github.com/strait-gateway/strait/plugins/limitconnectionpolicy"      // LimitConnectionPolicy
	_ "github.com/strait-gateway/strait/plugins/limitjoingrouppolicy"       // LimitJoinGroupPolicy
	_ "github.com/strait-gateway/strait/plugins/producerratelimitingpolicy" // ProducerRateLimitingPolicy
)
