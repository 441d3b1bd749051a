package catalog

// The chaos plugins that change records.
import (
	_ "github.com/strait-gateway/strait/plugins/duplicatemessages"                // DuplicateMessages
	_ "github.com/strait-gateway/strait/plugins/fetchsimulatemessagecorruption"   // FetchSimulateMessageCorruption
	_ "github.com/strait-gateway/strait/plugins/producesimulatemessagecorruption" // ProduceSimulateMessageCorruption
	_ "github.com/strait-gateway/strait/plugins/simulateinvalidschemaid"          // SimulateInvalidSchemaId
)
