package catalog

import (
	_ "github.com/strait-gateway/strait/plugins/dynamicheaderinjection" // DynamicHeaderInjection
	_ "github.com/strait-gateway/strait/plugins/messageheaderremoval"   // MessageHeaderRemoval
	_ "github.com/strait-gateway/strait/plugins/topicrequiredschemaid"  // TopicRequiredSchemaIdPolicy
)
