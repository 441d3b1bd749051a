package auth

import (
	"container/list"
	"errors"
	"math"
	"sync"
	"time"
)

// maxTrackedAddresses bounds the addresses a FailureLimiter remembers;
// beyond it the one whose last failure is oldest is forgotten.
const maxTrackedAddresses = 100_000

// FailureLimiter limits failed authentication attempts per client address
// with a token bucket: an address may fail burst times in a row, after
// which its attempts are refused until failures drain away, one per
// interval. Addresses whose bucket has drained are forgotten, and at most
// 100,000 are remembered at once. It is safe for concurrent use.
type FailureLimiter struct {
	burst int
	per   time.Duration
	max   int

	mu      sync.Mutex
	entries map[string]*list.Element // of *failures
	order   *list.List               // least recently failed first
}

// failures is the state of one address: the time at which its failures
// will have drained away completely. Each failure pushes it one interval
// further, up to burst intervals ahead.
type failures struct {
	ip    string
	clear time.Time
}

// NewFailureLimiter returns a limiter that refuses an address after burst
// failures and forgives one failure per interval per.
func NewFailureLimiter(burst int, per time.Duration) (*FailureLimiter, error) {
	if burst < 1 || per <= 0 {
		return nil, errors.New("auth: failure limiter needs a positive burst and interval")
	}
	if per > math.MaxInt64/time.Duration(burst) {
		return nil, errors.New("auth: failure limiter burst times interval is too long")
	}
	return &FailureLimiter{
		burst:   burst,
		per:     per,
		max:     maxTrackedAddresses,
		entries: map[string]*list.Element{},
		order:   list.New(),
	}, nil
}

// Allow reports whether a new authentication attempt from ip (an address,
// without port) may proceed at now.
func (l *FailureLimiter) Allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetDrained(now)
	e, ok := l.entries[ip]
	if !ok {
		return true
	}
	// Fewer than burst failures are pending while clear is at most
	// burst-1 intervals away.
	return e.Value.(*failures).clear.Sub(now) <= time.Duration(l.burst-1)*l.per
}

// Fail records a failed authentication attempt from ip at now.
func (l *FailureLimiter) Fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetDrained(now)
	if e, ok := l.entries[ip]; ok {
		f := e.Value.(*failures)
		f.clear = later(f.clear, now).Add(l.per)
		if full := now.Add(time.Duration(l.burst) * l.per); f.clear.After(full) {
			f.clear = full // a bucket holds at most burst failures
		}
		l.order.MoveToBack(e)
		return
	}
	l.entries[ip] = l.order.PushBack(&failures{ip: ip, clear: now.Add(l.per)})
	if l.order.Len() > l.max {
		l.remove(l.order.Front())
	}
}

// forgetDrained drops the least recently failed addresses while their
// failures have drained by now. It stops at the first that has not, so
// the work per call stays small; the cap bounds what it leaves behind.
func (l *FailureLimiter) forgetDrained(now time.Time) {
	for e := l.order.Front(); e != nil && !e.Value.(*failures).clear.After(now); e = l.order.Front() {
		l.remove(e)
	}
}

// remove forgets one address.
func (l *FailureLimiter) remove(e *list.Element) {
	delete(l.entries, l.order.Remove(e).(*failures).ip)
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
