// The state benchmark: how long a config change made through one node's
// admin API takes to be served by another node of the same gateway cluster,
// and how long loading a large config topic takes (rebuild.go). Every run
// uses fresh GATEWAY_CLUSTER_IDs, so its topics start empty, and deletes
// those topics at the end.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/server"
)

const (
	// propagationTarget is the required p99 propagation latency.
	propagationTarget = 500 * time.Millisecond
	// warmupChanges are made before the timed changes and discarded.
	warmupChanges = 10
	// propagationGroup is the GatewayGroup the propagation run changes.
	propagationGroup = "bench-propagation"
)

// The state runs' strait processes (nodes A and B, then the rebuild runs'
// node) take their Kafka ports from these and HTTP on the port 99 above.
// They lie below the kernel's ephemeral range (32768 and up), where any
// outgoing connection could be holding them, and clear of the e2e suite's.
const (
	portA       = 24600
	portB       = 24700
	rebuildPort = 24800
)

// state measures config propagation between two strait processes and the
// rebuild of a config topic of resources resources, and prints a summary.
func state(binary, bootstrap string, changes, resources int) error {
	if changes < 2 || resources < 1 {
		return fmt.Errorf("state: need at least 2 changes and 1 resource, got %d and %d", changes, resources)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return fmt.Errorf("state: client: %w", err)
	}
	defer cl.Close()

	fmt.Printf("\nstate: %d changes of one GatewayGroup after %d warm-up changes, written alternately on node A and node B;\n"+
		"propagation is the time from sending the PUT to one node until the other node's GET returns the new value,\n"+
		"polled every 1 ms (so it includes up to ~1 ms of polling granularity)\n\n", changes, warmupChanges)
	put, seen, err := propagation(ctx, cl, binary, bootstrap, changes)
	if err != nil {
		return fmt.Errorf("propagation: %w", err)
	}
	reb, err := rebuild(ctx, cl, binary, bootstrap, resources)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}

	fmt.Println()
	printHeader("state summary")
	var allPut, allSeen []time.Duration
	for _, dir := range []string{"A→B", "B→A"} {
		allPut, allSeen = append(allPut, put[dir]...), append(allSeen, seen[dir]...)
	}
	spreadOf(allPut).print("admin PUT")
	p := spreadOf(allSeen)
	p.print("config propagation")
	verdict := "meets"
	if p.p99 > propagationTarget {
		verdict = "MISSES"
	}
	fmt.Printf("propagation p99 %.1f ms %s the target of ≤ %d ms\n", ms(p.p99), verdict, propagationTarget.Milliseconds())
	open := medianDuration(reb.open)
	fmt.Printf("rebuild of %d resources: store.Open %.0f ms (median of %d, %.0f records/s); strait process start to ready %.0f ms (%.0f ms with an empty config)\n",
		reb.resources, ms(open), len(reb.open), perSecond(reb.resources, open), ms(reb.ready), ms(reb.emptyReady))
	return nil
}

// propagation starts nodes A and B of a fresh gateway cluster and changes
// one GatewayGroup warmupChanges+changes times, the writer alternating. It
// returns the PUT latencies and the propagation times of the timed changes
// by direction ("A→B", "B→A").
func propagation(ctx context.Context, cl *kgo.Client, binary, bootstrap string, changes int) (put, seen map[string][]time.Duration, err error) {
	id := clusterID("propagation")
	defer deleteTopics(cl, id)
	env := "GATEWAY_CLUSTER_ID=" + id
	a, err := startGateway(binary, bootstrap, portA, portA+99, env)
	if err != nil {
		return nil, nil, fmt.Errorf("node A: %w", err)
	}
	defer a.stop()
	b, err := startGateway(binary, bootstrap, portB, portB+99, env)
	if err != nil {
		return nil, nil, fmt.Errorf("node B: %w", err)
	}
	defer b.stop()

	hc := &http.Client{Timeout: 30 * time.Second}
	nodes, names := [2]*gateway{a, b}, [2]string{"A", "B"}
	put, seen = map[string][]time.Duration{}, map[string][]time.Duration{}
	for i := range warmupChanges + changes {
		w, r := i%2, 1-i%2
		dir := names[w] + "→" + names[r]
		p, s, err := change(ctx, hc, nodes[w], nodes[r], groupDoc(i))
		if err != nil {
			return nil, nil, fmt.Errorf("change %d (%s): %w", i+1, dir, err)
		}
		if i >= warmupChanges {
			put[dir], seen[dir] = append(put[dir], p), append(seen[dir], s)
		}
	}
	printHeader("")
	for _, dir := range []string{"A→B", "B→A"} {
		spreadOf(put[dir]).print("PUT on " + dir[:1])
		spreadOf(seen[dir]).print("propagation " + dir)
	}
	return put, seen, nil
}

// groupDoc returns the propagation group's i-th value, as compact JSON.
func groupDoc(i int) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": resource.APIVersion,
		"kind":       "GatewayGroup",
		"metadata":   map[string]string{"name": propagationGroup},
		"spec":       map[string]any{"members": []map[string]string{{"name": fmt.Sprintf("member-%d", i)}}},
	})
	return b
}

// change PUTs doc on writer and polls reader's GET of the group every
// millisecond until it returns doc. It returns the PUT's latency and the
// time from sending the PUT until reader served the new value.
func change(ctx context.Context, hc *http.Client, writer, reader *gateway, doc []byte) (put, seen time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	putErr := make(chan error, 1)
	go func() {
		code, body, err := call(ctx, hc, http.MethodPut, writer.url+"/gateway/v2/group", doc)
		put = time.Since(start)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("PUT answered %d: %s", code, bytes.TrimSpace(body))
		}
		if err != nil {
			cancel() // the value will not arrive; stop polling
		}
		putErr <- err
	}()
	seen, getErr := await(ctx, hc, reader.url+"/gateway/v2/group/"+propagationGroup, doc, start)
	if err := <-putErr; err != nil {
		return 0, 0, fmt.Errorf("PUT on %s: %w", writer.url, err)
	}
	if getErr != nil {
		return 0, 0, fmt.Errorf("GET on %s: %w", reader.url, getErr)
	}
	return put, seen, nil
}

// await GETs url every millisecond until it returns want, and returns the
// time since start.
func await(ctx context.Context, hc *http.Client, url string, want []byte, start time.Time) (time.Duration, error) {
	for {
		code, body, err := call(ctx, hc, http.MethodGet, url, nil)
		switch {
		case err != nil:
			return 0, err
		case code == http.StatusOK && bytes.Equal(bytes.TrimSpace(body), want):
			return time.Since(start), nil
		case code != http.StatusOK && code != http.StatusNotFound:
			return 0, fmt.Errorf("GET answered %d: %s", code, bytes.TrimSpace(body))
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// call sends one admin API request as the bench's admin user and returns
// the status and body.
func call(ctx context.Context, hc *http.Client, method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(adminUser, adminPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// clusterID returns a GATEWAY_CLUSTER_ID no earlier run used.
func clusterID(purpose string) string {
	return fmt.Sprintf("bench-%s-%d", purpose, time.Now().UnixNano())
}

// deleteTopics deletes the internal topics of the gateway clusters ids,
// best effort: a failure only leaves topics behind.
func deleteTopics(cl *kgo.Client, ids ...string) {
	var topics []string
	for _, id := range ids {
		cfg := server.Config{ClusterID: id}
		topics = append(topics, cfg.ConfigTopic(), cfg.MembersTopic())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = kadm.NewClient(cl).DeleteTopics(ctx, topics...)
}

// spread is the distribution of a set of durations.
type spread struct{ p50, p95, p99, max time.Duration }

func spreadOf(ds []time.Duration) spread {
	s := slices.Sorted(slices.Values(ds))
	n := len(s)
	return spread{s[n/2], s[n*95/100], s[n*99/100], s[n-1]}
}

// printHeader heads the columns spread.print writes.
func printHeader(title string) {
	fmt.Printf("%-22s %10s %10s %10s %10s\n", title, "p50", "p95", "p99", "max")
}

func (s spread) print(label string) {
	fmt.Printf("%-22s %7.1f ms %7.1f ms %7.1f ms %7.1f ms\n", label, ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max))
}

func medianDuration(ds []time.Duration) time.Duration {
	return slices.Sorted(slices.Values(ds))[len(ds)/2]
}

func perSecond(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
