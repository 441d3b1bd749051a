// The audit benchmark: what the audit log costs the produce path in its
// worst case, where an AuditPlugin turns every produce request into an
// audit event. Two strait processes run on the same broker with the same
// plugin applied, one with the audit log disabled (the events are
// discarded) and one with it enabled, so the difference between them is
// the audit log alone; the same load runs directly, through the one and
// through the other.

package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/server"
)

// The audit run's strait processes take their Kafka ports from these and
// HTTP on the port 99 above, clear of the other parts' ports.
const (
	auditPortOff = 24900
	auditPortOn  = 25000
)

// highRateFactor multiplies -rate for the latency run under load.
const highRateFactor = 10

// auditPlugin records every produce request to every topic, for everyone.
const auditPlugin = `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"bench-audit","scope":{"vCluster":null}},` +
	`"spec":{"pluginClass":"AuditPlugin","priority":1,"config":{"apiKeys":["PRODUCE"],"topic":".*"}}}`

// auditResult is one path's figures in one round.
type auditResult struct {
	produceMBps float64
	p50, p99    time.Duration // at -rate
	hiP50       time.Duration // at highRateFactor × -rate
	hiP99       time.Duration
}

// auditPath is a way to the broker.
type auditPath struct{ name, addr string }

// audit compares produce directly against the broker, through a strait
// process whose AuditPlugin events are discarded and through one whose
// audit log writes them, one per produce request.
//
// The two processes have different GATEWAY_CLUSTER_IDs, so each has its
// own config topic and the audit-off one writes no audit topic either.
func audit(binary, bootstrap string, rounds, records, size, rate int, latencyD time.Duration) error {
	idOff, idOn := clusterID("audit-off"), clusterID("audit-on")
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return fmt.Errorf("audit: client: %w", err)
	}
	defer cl.Close()
	defer func() {
		deleteTopics(cl, idOff, idOn)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = kadm.NewClient(cl).DeleteTopics(ctx, server.Config{ClusterID: idOn}.AuditTopic())
	}()

	off, err := startGateway(binary, bootstrap, auditPortOff, auditPortOff+99,
		"GATEWAY_CLUSTER_ID="+idOff, "GATEWAY_AUDIT_ENABLED=false")
	if err != nil {
		return err
	}
	defer off.stop()
	on, err := startGateway(binary, bootstrap, auditPortOn, auditPortOn+99,
		"GATEWAY_CLUSTER_ID="+idOn, "GATEWAY_AUDIT_ENABLED=true")
	if err != nil {
		return err
	}
	defer on.stop()
	hc := &http.Client{Timeout: 30 * time.Second}
	ctx := context.Background()
	for _, g := range []*gateway{off, on} {
		if code, body, err := call(ctx, hc, http.MethodPut, g.url+"/gateway/v2/interceptor", []byte(auditPlugin)); err != nil || code != http.StatusOK {
			return fmt.Errorf("audit: apply AuditPlugin: %d %s %v", code, body, err)
		}
	}

	high := highRateFactor * rate
	fmt.Printf("\naudit: %d records of %d bytes, acks=all, 3 partitions; latency at %d and at %d records/s for %s each; %d alternating rounds\n"+
		"both gateways run an AuditPlugin recording every PRODUCE request; audit-off: GATEWAY_AUDIT_ENABLED=false (events discarded), audit-on: audit log enabled\n\n",
		records, size, rate, high, latencyD, rounds)
	paths := []auditPath{{"direct", bootstrap}, {"audit-off", off.addr}, {"audit-on", on.addr}}
	// One discarded warm-up round; after it the order alternates between
	// forwards and backwards, so neither gateway always runs first.
	for _, p := range paths {
		if _, err := auditTurn(p, "warmup", records, size, rate, high, latencyD); err != nil {
			return fmt.Errorf("%s warm-up: %w", p.name, err)
		}
	}
	before, err := auditCounts(hc, on.url)
	if err != nil {
		return err
	}
	results := map[string][]auditResult{}
	for r := range rounds {
		order := paths
		if r%2 == 1 {
			order = []auditPath{paths[2], paths[1], paths[0]}
		}
		for _, p := range order {
			res, err := auditTurn(p, strconv.Itoa(r), records, size, rate, high, latencyD)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", p.name, r+1, err)
			}
			results[p.name] = append(results[p.name], res)
			fmt.Printf("round %d %-9s produce %7.1f MB/s  at %d/s p50 %6.2f ms p99 %6.2f ms  at %d/s p50 %6.2f ms p99 %6.2f ms\n",
				r+1, p.name, res.produceMBps, rate, ms(res.p50), ms(res.p99), high, ms(res.hiP50), ms(res.hiP99))
		}
	}
	after, err := auditSettled(hc, on.url)
	if err != nil {
		return err
	}
	printAudit(results, rate, high)
	written, produces := after.written-before.written, after.produces-before.produces
	fmt.Printf("\naudit-on during the measured rounds: %.0f produce requests, %.0f audit events written (all types), %.0f dropped since start, %.0f still buffered\n",
		produces, written, after.dropped, after.buffered)
	if written < produces {
		return fmt.Errorf("audit: %.0f events written for %.0f produce requests: the AuditPlugin did not record every request", written, produces)
	}
	return nil
}

// auditTurn runs one path's throughput and fixed-rate latency runs, then a
// latency run at the high rate.
func auditTurn(p auditPath, round string, records, size, rate, high int, latencyD time.Duration) (auditResult, error) {
	topic := fmt.Sprintf("bench-audit-%s-%s-%d", p.name, round, time.Now().UnixNano()%1e6)
	res, err := measure(p.addr, topic, records, size, rate, latencyD)
	if err != nil {
		return auditResult{}, err
	}
	hiP50, hiP99, err := latencyAt(p.addr, topic+"-high", make([]byte, size), high, latencyD)
	if err != nil {
		return auditResult{}, fmt.Errorf("at %d records/s: %w", high, err)
	}
	return auditResult{produceMBps: res.produceMBps, p50: res.p50, p99: res.p99, hiP50: hiP50, hiP99: hiP99}, nil
}

// latencyAt produces value at rate records a second for d to a new topic,
// without linger, and returns the p50 and p99 produce-to-ack latency.
func latencyAt(addr, topic string, value []byte, rate int, d time.Duration) (p50, p99 time.Duration, err error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		return 0, 0, err
	}
	defer func() { _, _ = adm.DeleteTopics(ctx, topic) }()
	// As in measureValue: one record first, so the run does not time the
	// new topic's metadata propagation.
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
		return 0, 0, err
	}
	lat, err := latencyRun(ctx, cl, value, rate, d)
	if err != nil {
		return 0, 0, err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100], nil
}

// printAudit prints each figure's median per path and the medians of the
// per-round pairs between paths.
func printAudit(results map[string][]auditResult, rate, high int) {
	figures := []figure[auditResult]{
		{"produce MB/s", func(r auditResult) float64 { return r.produceMBps }, true},
		{fmt.Sprintf("p50 ms at %d/s", rate), func(r auditResult) float64 { return ms(r.p50) }, false},
		{fmt.Sprintf("p99 ms at %d/s", rate), func(r auditResult) float64 { return ms(r.p99) }, false},
		{fmt.Sprintf("p50 ms at %d/s", high), func(r auditResult) float64 { return ms(r.hiP50) }, false},
		{fmt.Sprintf("p99 ms at %d/s", high), func(r auditResult) float64 { return ms(r.hiP99) }, false},
	}
	printPaired(results, []string{"direct", "audit-off", "audit-on"}, [][2]string{{"audit-on", "audit-off"}, {"audit-off", "direct"}, {"audit-on", "direct"}}, figures)
}

// auditCounters are a strait process's audit and produce counters.
type auditCounters struct{ written, dropped, buffered, produces float64 }

// auditSettled waits up to ten seconds for the audit buffer to empty and
// returns the counters then.
func auditSettled(hc *http.Client, url string) (auditCounters, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := auditCounts(hc, url)
		if err != nil || c.buffered == 0 || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// auditCounts scrapes url's /metrics.
func auditCounts(hc *http.Client, url string) (auditCounters, error) {
	var c auditCounters
	resp, err := hc.Get(url + "/metrics")
	if err != nil {
		return c, fmt.Errorf("audit: metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case name == "strait_audit_events_written_total":
			c.written += v
		case strings.HasPrefix(name, "strait_audit_events_dropped_total"):
			c.dropped += v
		case name == "strait_audit_events_buffered":
			c.buffered = v
		case name == `strait_requests_total{api_key="Produce"}`:
			c.produces = v
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("audit: metrics: %w", err)
	}
	return c, nil
}
