package catalog

// The chaos plugins that need no record rewriting.
import (
	_ "github.com/strait-gateway/strait/plugins/simulatebrokenbrokers"          // SimulateBrokenBrokers
	_ "github.com/strait-gateway/strait/plugins/simulatelatency"                // SimulateLatency
	_ "github.com/strait-gateway/strait/plugins/simulateleaderelectionserrors"  // SimulateLeaderElectionsErrors
	_ "github.com/strait-gateway/strait/plugins/simulateslowbroker"             // SimulateSlowBroker
	_ "github.com/strait-gateway/strait/plugins/simulateslowproducersconsumers" // SimulateSlowProducersConsumers
)
