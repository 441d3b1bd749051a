// Package interceptor is the contract between the gateway's frame path and
// the plugins that enforce policies on client traffic.
//
// A Plugin is a kind of interceptor (CreateTopicPolicy, ProducePolicy, ...)
// registered by its own package. An Interceptor resource names a plugin and
// gives it a config; the plugin validates the config strictly and returns
// an Interceptor. The pipeline package orders the interceptors that apply
// to a connection into a Chain; the gateway runs the chain on the decoded
// requests and responses of the API keys it subscribes to and leaves every
// other frame untouched.
//
// An interceptor acts through its Call: it may change a request or a
// response in place (OVERRIDE), refuse the request (BLOCK), delay it
// (THROTTLE) or only report it (INFO). Every action is reported.
package interceptor

import "github.com/twmb/franz-go/pkg/kmsg"

// Interceptor is one configured instance of a plugin. Its methods are
// called concurrently by many connections; an instance keeps no
// per-connection state outside the Call.
type Interceptor interface {
	// Subscribe reports the API keys whose requests and responses it
	// sees. It is asked once per configuration generation.
	Subscribe() Subscription
	// Request sees a decoded request of a subscribed key before the
	// gateway translates and forwards it.
	Request(c *Call, req kmsg.Request)
	// Response sees a decoded response of a subscribed key before the
	// client does.
	Response(c *Call, resp kmsg.Response)
}

// Connector is implemented by interceptors that act once per connection,
// when the client has authenticated (LimitConnectionPolicy). Blocking the
// call closes the connection; throttling delays its first request.
type Connector interface {
	Connected(c *Call)
}

// Subscription lists API keys per direction.
type Subscription struct {
	Requests  []int16
	Responses []int16
}

// Base gives an interceptor no-op Request and Response methods, so it
// only writes the direction it handles.
type Base struct{}

// Request does nothing.
func (Base) Request(*Call, kmsg.Request) {}

// Response does nothing.
func (Base) Response(*Call, kmsg.Response) {}
