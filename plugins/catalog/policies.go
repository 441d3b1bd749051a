package catalog

import (
	_ "github.com/strait-gateway/strait/plugins/alterbrokerconfigpolicy" // AlterBrokerConfigPolicy
	_ "github.com/strait-gateway/strait/plugins/altertopicconfigpolicy"  // AlterTopicConfigPolicy
	_ "github.com/strait-gateway/strait/plugins/clientidrequiredpolicy"  // ClientIdRequiredPolicy
	_ "github.com/strait-gateway/strait/plugins/consumergrouppolicy"     // ConsumerGroupPolicy
	_ "github.com/strait-gateway/strait/plugins/fetchpolicy"             // FetchPolicy
	_ "github.com/strait-gateway/strait/plugins/producepolicy"           // ProducePolicy
	_ "github.com/strait-gateway/strait/plugins/readonlytopicpolicy"     // ReadOnlyTopicPolicy
)
