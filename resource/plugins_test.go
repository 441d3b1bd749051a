// The plugins register in an external test package: linked into the same
// test binary, they validate the Interceptor resources of the package's
// tests without an import cycle (some plugins reach the state store, which
// imports this package).
package resource_test

import (
	_ "github.com/strait-gateway/strait/interceptor/interceptortest" // pluginClass "p"
	_ "github.com/strait-gateway/strait/plugins/catalog"             // the real plugins
)
