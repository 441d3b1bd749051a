// Package audittest records audit events in memory for tests.
package audittest

import (
	"slices"
	"sync"
	"time"

	"github.com/strait-gateway/strait/audit"
)

// Recorder is an audit.Emitter that keeps every event.
type Recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

// Emit keeps e.
func (r *Recorder) Emit(e audit.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns the events so far, of the given types (all without).
func (r *Recorder) Events(types ...audit.Type) []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, e := range r.events {
		if len(types) == 0 || slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// Subject returns the events of one subject, in order.
func (r *Recorder) Subject(subject string) []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, e := range r.events {
		if e.Subject == subject {
			out = append(out, e)
		}
	}
	return out
}

// Wait returns the events of the given types once match accepts them,
// or the last ones seen after d.
func (r *Recorder) Wait(d time.Duration, match func([]audit.Event) bool, types ...audit.Type) []audit.Event {
	deadline := time.Now().Add(d)
	for {
		evs := r.Events(types...)
		if match(evs) || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(10 * time.Millisecond)
	}
}
