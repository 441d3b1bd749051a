package interceptor

import (
	"time"
)

// Step is one interceptor of a chain.
type Step struct {
	// Name is the Interceptor resource's name; Plugin its plugin's name.
	Name, Plugin string
	Priority     int
	Interceptor  Interceptor

	requests, responses keySet
}

// Chain is the ordered interceptors that apply to one kind of connection
// (virtual cluster, user, groups) in one configuration generation. It is
// immutable; a configuration change compiles new chains.
type Chain struct {
	// Generation is the configuration generation it was compiled from.
	Generation uint64
	// Steps in the order they run.
	steps     []Step
	requests  keySet // union over steps
	responses keySet
	reporter  Reporter
	node      Node
}

// NewChain compiles steps, already in running order, into a chain.
// Actions are reported to r; node fills the gateway's template variables.
func NewChain(generation uint64, steps []Step, r Reporter, node Node) *Chain {
	ch := &Chain{Generation: generation, steps: steps, reporter: r, node: node}
	for i := range ch.steps {
		s := &ch.steps[i]
		sub := s.Interceptor.Subscribe()
		for _, k := range sub.Requests {
			s.requests.add(k)
			ch.requests.add(k)
		}
		for _, k := range sub.Responses {
			s.responses.add(k)
			ch.responses.add(k)
		}
	}
	return ch
}

// Steps returns the chain's interceptors in running order.
func (ch *Chain) Steps() []Step { return ch.steps }

// Intercepts reports whether any interceptor sees requests or responses
// of key; the frame path decodes only those.
func (ch *Chain) Intercepts(key int16) bool {
	return ch != nil && (ch.requests.has(key) || ch.responses.has(key))
}

// Begin starts a call for one request.
func (ch *Chain) Begin(conn *Conn, key, version int16, clientID *string, start time.Time) *Call {
	return &Call{Conn: conn, Key: key, Version: version, ClientID: clientID, Start: start, chain: ch}
}

// Connected runs the chain's connection interceptors once a client has
// authenticated. The returned call says whether the connection is
// refused or delayed.
func (ch *Chain) Connected(conn *Conn, start time.Time) *Call {
	c := &Call{Conn: conn, Key: -1, Version: -1, Start: start, chain: ch}
	for i, s := range ch.steps {
		if cn, ok := s.Interceptor.(Connector); ok && c.blocked == nil {
			c.step = i
			cn.Connected(c)
		}
	}
	return c
}

// keySet is a set of API keys.
type keySet [4]uint64

func (s *keySet) add(k int16) {
	if k >= 0 && k < 256 {
		s[k>>6] |= 1 << (k & 63)
	}
}

func (s *keySet) has(k int16) bool {
	return k >= 0 && k < 256 && s[k>>6]&(1<<(k&63)) != 0
}
