package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestNewFailureLimiter(t *testing.T) {
	for _, tt := range []struct {
		burst int
		per   time.Duration
		ok    bool
	}{
		{1, time.Second, true},
		{0, time.Second, false},
		{-1, time.Second, false},
		{5, 0, false},
		{5, -time.Second, false},
		{1 << 40, time.Hour, false},
	} {
		if _, err := NewFailureLimiter(tt.burst, tt.per); (err == nil) != tt.ok {
			t.Errorf("NewFailureLimiter(%d, %v): err = %v, want ok %v", tt.burst, tt.per, err, tt.ok)
		}
	}
}

func TestFailureLimiter(t *testing.T) {
	type step struct {
		at    time.Duration
		ip    string
		fail  bool // record a failure instead of asking
		allow bool // expected answer when asking
	}
	tests := []struct {
		name  string
		burst int
		per   time.Duration
		steps []step
	}{
		{"a stranger is allowed", 3, time.Minute, []step{
			{0, "10.0.0.1", false, true},
		}},
		{"refused after burst failures, until one drains", 3, time.Minute, []step{
			{0, "10.0.0.1", true, false},
			{0, "10.0.0.1", true, false},
			{0, "10.0.0.1", false, true},
			{0, "10.0.0.1", true, false},
			{0, "10.0.0.1", false, false},
			{59 * time.Second, "10.0.0.1", false, false},
			{time.Minute, "10.0.0.1", false, true},
			{time.Minute, "10.0.0.1", true, false},
			{time.Minute, "10.0.0.1", false, false},
			{2 * time.Minute, "10.0.0.1", false, true},
		}},
		{"addresses are independent", 1, time.Minute, []step{
			{0, "10.0.0.1", true, false},
			{0, "10.0.0.1", false, false},
			{0, "10.0.0.2", false, true},
			{0, "::1", false, true},
		}},
		{"failures drain one per interval", 2, time.Second, []step{
			{0, "a", true, false},
			{0, "a", true, false},
			{500 * time.Millisecond, "a", false, false},
			{time.Second, "a", false, true},
			{time.Second, "a", true, false},
			{time.Second, "a", false, false},
			{3 * time.Second, "a", false, true},
			{3 * time.Second, "a", true, false},
			{3 * time.Second, "a", false, true},
		}},
		{"the bucket holds at most burst failures", 2, time.Second, []step{
			{0, "a", true, false},
			{0, "a", true, false},
			{0, "a", true, false}, // racing attempts that passed Allow
			{0, "a", true, false},
			{time.Second, "a", false, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewFailureLimiter(tt.burst, tt.per)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				now := testNow.Add(s.at)
				if s.fail {
					l.Fail(s.ip, now)
					continue
				}
				if got := l.Allow(s.ip, now); got != s.allow {
					t.Fatalf("step %d: Allow(%s, +%v) = %v, want %v", i, s.ip, s.at, got, s.allow)
				}
			}
		})
	}
}

func TestFailureLimiterForgets(t *testing.T) {
	l, _ := NewFailureLimiter(1, time.Minute)
	l.max = 3
	for i := range 5 {
		l.Fail(fmt.Sprint("10.0.0.", i), testNow)
	}
	if len(l.entries) != 3 || l.order.Len() != 3 {
		t.Fatalf("tracking %d/%d addresses, want the cap of 3", len(l.entries), l.order.Len())
	}
	if !l.Allow("10.0.0.0", testNow) || !l.Allow("10.0.0.1", testNow) || l.Allow("10.0.0.4", testNow) {
		t.Fatal("the cap did not drop the oldest addresses")
	}

	l.Allow("anyone", testNow.Add(time.Minute))
	if len(l.entries) != 0 || l.order.Len() != 0 {
		t.Fatalf("tracking %d addresses after all drained, want 0", len(l.entries))
	}
}

func TestFailureLimiterConcurrent(t *testing.T) {
	l, _ := NewFailureLimiter(5, time.Second)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				ip := fmt.Sprint("10.0.", g, ".", i%50)
				now := testNow.Add(time.Duration(i) * time.Millisecond)
				if l.Allow(ip, now) {
					l.Fail(ip, now)
				}
			}
		})
	}
	wg.Wait()
	if len(l.entries) != l.order.Len() {
		t.Fatalf("map and list disagree: %d != %d", len(l.entries), l.order.Len())
	}
}
