// Package interceptortest supports tests. It registers a plugin for tests of
// code that stores and serves Interceptor resources without running them:
// pluginClass "p" accepts any JSON object as its config and does nothing.
// Events records what a chain reports, for tests of plugins.
package interceptortest

import (
	"encoding/json"

	"github.com/strait-gateway/strait/interceptor"
)

// Plugin is the test plugin's pluginClass.
const Plugin = "p"

func init() {
	interceptor.Register(interceptor.Define(Plugin, "accepts any config and does nothing (tests only)", "",
		func(*map[string]json.RawMessage, interceptor.Env) (interceptor.Interceptor, error) {
			return nothing{}, nil
		}))
}

type nothing struct{ interceptor.Base }

func (nothing) Subscribe() interceptor.Subscription { return interceptor.Subscription{} }
