// The rebuild benchmark: a config topic of many resources is written
// straight to Kafka, as any producer may, then loaded by store.Open in
// process and by a strait process, whose admin API must then list every
// resource, so an empty load cannot pass for a fast one.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/server"
	"github.com/strait-gateway/strait/store"
)

// openRuns is how many times store.Open loads the topic.
const openRuns = 3

// rebuildResult is what the rebuild runs measured.
type rebuildResult struct {
	resources int
	// open are the store.Open load times.
	open []time.Duration
	// ready and emptyReady are the times from starting a strait process
	// until /health/ready answered, with the resources and with an empty
	// config topic.
	ready, emptyReady time.Duration
}

// rebuild writes n resources to a fresh config topic and times loading it.
func rebuild(ctx context.Context, cl *kgo.Client, binary, bootstrap string, n int) (rebuildResult, error) {
	res := rebuildResult{resources: n}
	full, empty := clusterID("rebuild"), clusterID("empty")
	defer deleteTopics(cl, full, empty)
	topic := server.Config{ClusterID: full}.ConfigTopic()
	// Both config topics exist before their nodes start, so the two
	// start-ups differ only in what they load.
	for _, id := range []string{full, empty} {
		t := server.Config{ClusterID: id}.ConfigTopic()
		resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, t)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			return res, fmt.Errorf("create %s: %w", t, err)
		}
	}
	records, counts, size, err := resourceRecords(topic, n)
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return res, fmt.Errorf("write %s: %w", topic, err)
	}
	fmt.Printf("\nrebuild: %d resources (%s), %.1f MB, written to %s in %.0f ms\n",
		n, counts, float64(size)/1e6, topic, ms(time.Since(start)))

	for run := range openRuns {
		d, err := openStore(ctx, bootstrap, topic, n)
		if err != nil {
			return res, err
		}
		res.open = append(res.open, d)
		fmt.Printf("store.Open run %d         %7.0f ms  %8.0f records/s\n", run+1, ms(d), perSecond(n, d))
	}

	g, d, err := startTimed(binary, bootstrap, empty)
	if err != nil {
		return res, fmt.Errorf("empty config: %w", err)
	}
	g.stop()
	res.emptyReady = d
	fmt.Printf("strait start, empty      %7.0f ms  (process start until /health/ready answers 200, polled every 1 ms)\n", ms(d))

	g, d, err = startTimed(binary, bootstrap, full)
	if err != nil {
		return res, fmt.Errorf("%d resources: %w", n, err)
	}
	defer g.stop()
	res.ready = d
	if err := verify(ctx, g, counts); err != nil {
		return res, err
	}
	fmt.Printf("strait start, %-10d %7.0f ms  %8.0f records/s; the admin API lists all %d\n", n, ms(d), perSecond(n, d), n)
	return res, nil
}

// kindCounts counts resources by kind.
type kindCounts map[string]int

func (c kindCounts) String() string {
	var parts []string
	for _, k := range resource.KindNames() {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// resourceRecords returns n valid config records for topic, keyed as the
// resource package keys them, with their count by kind and their size.
func resourceRecords(topic string, n int) ([]*kgo.Record, kindCounts, int, error) {
	records := make([]*kgo.Record, 0, n)
	counts, size := kindCounts{}, 0
	for i := range n {
		doc, _ := json.Marshal(resourceDoc(i))
		r, err := resource.Parse(doc, "")
		if err != nil {
			return nil, nil, 0, fmt.Errorf("resource %d: %w", i, err)
		}
		records = append(records, &kgo.Record{Topic: topic, Key: r.Key(), Value: r.Raw})
		counts[r.Kind]++
		size += len(r.Key()) + len(r.Raw)
	}
	return records, counts, size, nil
}

// resourceDoc returns the i-th resource: a GatewayGroup, a
// GatewayServiceAccount or an Interceptor in turn, spread over 50 virtual
// clusters.
func resourceDoc(i int) map[string]any {
	vc := fmt.Sprintf("vc-%02d", i%50)
	doc := func(kind string, metadata, spec map[string]any) map[string]any {
		return map[string]any{"apiVersion": resource.APIVersion, "kind": kind, "metadata": metadata, "spec": spec}
	}
	switch i % 3 {
	case 0:
		return doc("GatewayGroup", map[string]any{"name": fmt.Sprintf("group-%05d", i)}, map[string]any{
			"members": []map[string]string{
				{"name": fmt.Sprintf("user-%05d-a", i), "vCluster": vc},
				{"name": fmt.Sprintf("user-%05d-b", i), "vCluster": vc},
			},
			"externalGroups": []string{fmt.Sprintf("CN=group-%05d,OU=bench", i)},
		})
	case 1:
		return doc("GatewayServiceAccount", map[string]any{"name": fmt.Sprintf("sa-%05d", i), "vCluster": vc}, map[string]any{
			"type":          "EXTERNAL",
			"externalNames": []string{fmt.Sprintf("CN=sa-%05d,OU=bench", i)},
		})
	default:
		return doc("Interceptor", map[string]any{"name": fmt.Sprintf("limit-%05d", i), "scope": map[string]any{"vCluster": vc}}, map[string]any{
			"pluginClass": "io.conduktor.gateway.interceptor.safeguard.ProducePolicyPlugin",
			"priority":    100,
			"config":      map[string]any{"acks": map[string]any{"value": []int{-1}, "action": "BLOCK"}},
		})
	}
}

// openStore loads topic with store.Open, as a node does at start-up, and
// checks that all n resources were applied.
func openStore(ctx context.Context, bootstrap, topic string, n int) (time.Duration, error) {
	start := time.Now()
	st, err := store.Open(ctx, []kgo.Opt{kgo.SeedBrokers(bootstrap)}, store.Config{Topic: topic}, resource.Decode)
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("store.Open: %w", err)
	}
	defer st.Close()
	if got, rejected := len(st.Snapshot().Entries), st.Rejected(); got != n || rejected != 0 {
		return 0, fmt.Errorf("store.Open loaded %d of %d resources (%d records rejected)", got, n, rejected)
	}
	return d, nil
}

// startTimed starts a strait process of gateway cluster id and returns it
// with the time from starting the process until /health/ready answered 200,
// polled every millisecond.
func startTimed(binary, bootstrap, id string) (*gateway, time.Duration, error) {
	start := time.Now()
	g, err := spawnGateway(binary, bootstrap, rebuildPort, rebuildPort+99, "GATEWAY_CLUSTER_ID="+id)
	if err != nil {
		return nil, 0, err
	}
	hc := &http.Client{Timeout: time.Second}
	for time.Since(start) < 2*time.Minute {
		if resp, err := hc.Get(g.url + "/health/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g, time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	g.stop()
	return nil, 0, errors.New("strait not ready after 2m")
}

// verify checks that the admin API of g lists want resources of each kind.
func verify(ctx context.Context, g *gateway, want kindCounts) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	for kind, n := range want {
		url := g.url + "/gateway/v2/" + resource.PathForKind(kind)
		code, body, err := call(ctx, hc, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("list %s: %w", kind, err)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil {
			return fmt.Errorf("list %s: answered %d: %.200s", kind, code, body)
		}
		if len(list) != n {
			return fmt.Errorf("GET %s lists %d of the %d written", url, len(list), n)
		}
	}
	return nil
}
