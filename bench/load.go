package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// result is one path's figures in one round.
type result struct {
	produceMBps, consumeMBps float64
	p50, p99                 time.Duration
	bytes                    int64 // moved through the path, both directions
}

// measure runs a max-rate produce, a consume of what was produced, and a
// fixed-rate latency run against addr, with records of size zero bytes.
func measure(addr, topic string, records, size, rate int, latencyD time.Duration) (result, error) {
	return measureValue(addr, topic, make([]byte, size), records, rate, latencyD)
}

// measureValue is measure with records holding value.
func measureValue(addr, topic string, value []byte, records, rate int, latencyD time.Duration) (result, error) {
	var res result
	size := len(value)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		return res, err
	}
	// A new topic takes a moment to reach every broker's metadata; a
	// producer that asks too early waits out its metadata back-off, which
	// would time the broker's propagation instead of the path. Produce one
	// record before the clock starts.
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
		return res, err
	}

	start := time.Now()
	if err := produceAll(ctx, cl, value, records); err != nil {
		return res, err
	}
	res.produceMBps = float64(records*size) / 1e6 / time.Since(start).Seconds()

	// The topic is read consumePasses times, each by a fresh consumer from
	// the start, so the consume figure covers more than a fraction of a
	// second.
	start = time.Now()
	for range consumePasses {
		if err := consumeAll(ctx, addr, topic, records+1); err != nil {
			return res, err
		}
	}
	res.consumeMBps = float64(consumePasses*records*size) / 1e6 / time.Since(start).Seconds()

	// Latency is measured without linger, so it shows the path, not batching.
	quick, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		return res, err
	}
	defer quick.Close()
	lat, err := latencyRun(ctx, quick, value, rate, latencyD)
	if err != nil {
		return res, err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.p50, res.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	res.bytes = int64((1+consumePasses)*records*size) + int64(len(lat)*size)
	_, _ = kadm.NewClient(cl).DeleteTopics(ctx, topic)
	return res, nil
}

// consumePasses is how many times each produced topic is read.
const consumePasses = 3

// consumeAll reads n records of topic from the start.
func consumeAll(ctx context.Context, addr, topic string, n int) error {
	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(50<<20))
	if err != nil {
		return err
	}
	defer consumer.Close()
	for got := 0; got < n; {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consumed %d of %d: %w", got, n, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return errs[0].Err
		}
		got += fs.NumRecords()
	}
	return nil
}

func produceAll(ctx context.Context, cl *kgo.Client, value []byte, n int) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	wg.Add(n)
	for range n {
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return first
}

// latencyRun produces at a fixed rate and records each record's time from
// Produce to acknowledgement.
func latencyRun(ctx context.Context, cl *kgo.Client, value []byte, rate int, d time.Duration) ([]time.Duration, error) {
	n := int(d.Seconds() * float64(rate))
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	interval := time.Second / time.Duration(rate)
	begin := time.Now()
	wg.Add(n)
	for i := range n {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			lat[i] = time.Since(sent)
			if err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return lat, first
}

func waitReady(url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("gateway not ready after %s", d)
}
