package cli

import (
	_ "github.com/strait-gateway/strait/interceptor/interceptortest" // pluginClass "p"
	_ "github.com/strait-gateway/strait/plugins/catalog"             // the real plugins
)
