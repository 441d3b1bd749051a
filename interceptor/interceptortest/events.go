package interceptortest

import (
	"strings"
	"sync"

	"github.com/strait-gateway/strait/interceptor"
)

// Events is an interceptor.Reporter that records what a chain reports, for
// tests to inspect. It is safe for concurrent use; the zero value is ready.
type Events struct {
	mu   sync.Mutex
	list []interceptor.Event
}

// Report records ev.
func (e *Events) Report(ev interceptor.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

// List returns a copy of the events reported so far, in order.
func (e *Events) List() []interceptor.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]interceptor.Event(nil), e.list...)
}

// Actions returns the reported actions joined by commas, e.g. "BLOCK,INFO".
func (e *Events) Actions() string {
	var out []string
	for _, ev := range e.List() {
		out = append(out, string(ev.Action))
	}
	return strings.Join(out, ",")
}

// String returns the reported events as ACTION:topic joined by commas,
// e.g. "BLOCK:orders,INFO:logs".
func (e *Events) String() string {
	var out []string
	for _, ev := range e.List() {
		out = append(out, string(ev.Action)+":"+ev.Topic)
	}
	return strings.Join(out, ",")
}
