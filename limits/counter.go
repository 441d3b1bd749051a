package limits

import (
	"sync"
	"sync/atomic"
	"time"
)

// slots is how many slots a window is cut into. A count covers the slot
// being filled and the slots before it back to the one holding the
// window's start, so it spans between one window and one window plus one
// slot: it never counts less than the exact sliding window does.
const slots = 10

// slotOf returns the length of one slot of a window.
func slotOf(window time.Duration) time.Duration {
	return max(window/slots, time.Millisecond)
}

// counter counts one bucket's events on this node, per slot of wall-clock
// time. Slot numbers are Unix time divided by the slot length, so every
// node numbers the slots of a window the same way.
type counter struct {
	mu     sync.Mutex
	slot   time.Duration
	nums   [slots + 1]int64 // the slot number each entry counts
	counts [slots + 1]int64
	// used is the last slot number with events, read without the lock by
	// the collector.
	used atomic.Int64
}

func newCounter(window time.Duration) *counter {
	return &counter{slot: slotOf(window)}
}

// add records n events at now and returns the count over the window.
func (c *counter) add(now time.Time, n int64) int64 {
	cur := now.UnixNano() / int64(c.slot)
	c.mu.Lock()
	defer c.mu.Unlock()
	i := cur % (slots + 1)
	if c.nums[i] != cur {
		c.nums[i], c.counts[i] = cur, 0
	}
	c.counts[i] += n
	c.used.Store(cur)
	var sum int64
	for j := range c.nums {
		if c.nums[j] > cur-slots-1 && c.nums[j] <= cur {
			sum += c.counts[j]
		}
	}
	return sum
}

// recent returns the non-zero counts of the window ending at now, by slot
// number.
func (c *counter) recent(now time.Time) map[int64]int64 {
	cur := now.UnixNano() / int64(c.slot)
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int64]int64{}
	for j := range c.nums {
		if c.nums[j] > cur-slots-1 && c.nums[j] <= cur && c.counts[j] != 0 {
			out[c.nums[j]] = c.counts[j]
		}
	}
	return out
}

// idle reports whether the counter has had no event for a whole window
// before now.
func (c *counter) idle(now time.Time) bool {
	return c.used.Load() <= now.UnixNano()/int64(c.slot)-slots-1
}

// remote is what the other nodes reported for one bucket: counts by slot
// number, summed over nodes.
type remote struct {
	slot   time.Duration
	counts map[int64]int64
}

// sum returns the reported count over the window ending at now, for a
// bucket counted in slots of length slot.
func (r *remote) sum(now time.Time, slot time.Duration) int64 {
	if r == nil || r.slot != slot {
		return 0
	}
	cur := now.UnixNano() / int64(slot)
	var total int64
	for s := cur - slots; s <= cur; s++ {
		total += r.counts[s]
	}
	return total
}
