// Command bench measures what the gateway costs: the same producer and
// consumer load runs directly against a real Kafka broker and through a
// Strait process, alternating, and the figures are printed side by side
// with their ratio. It then measures the declarative state (state.go): how
// fast a config change made on one node reaches another, and how long a
// node takes to load a large config topic, and what the audit log costs
// the produce path (audit.go) and what record encryption costs it
// (encryption.go), and what topic concentration costs a consumer and a
// restarting node (concentration.go). Run it with `make bench`; -only data,
// plugins, audit, encryption, concentration or state runs one part.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/strait-gateway/strait/plugins/catalog" // the rebuild benchmark stores Interceptor resources
)

func main() {
	var (
		bootstrap = flag.String("bootstrap", "", "backing broker bootstrap (default: start one with e2e/kafka/kafka.sh)")
		binary    = flag.String("strait", "", "strait binary (default: build one)")
		rounds    = flag.Int("rounds", 7, "alternating rounds of direct and gateway runs, after one warm-up round")
		records   = flag.Int("records", 200000, "records per throughput run")
		size      = flag.Int("size", 1024, "record size in bytes")
		rate      = flag.Int("rate", 5000, "records per second in the latency run")
		latencyD  = flag.Duration("latency-duration", 5*time.Second, "length of each latency run")
		only      = flag.String("only", "", "run only one part: data (produce/consume through the gateway), plugins (record-changing interceptors against passthrough), audit (produce with and without the audit log), encryption (passthrough against EncryptPlugin and DecryptPlugin), concentration (fetch of a concentrated topic against a plain one, offset index memory and rebuild) or state (config propagation and rebuild)")
		changes   = flag.Int("state-changes", 300, "config changes timed in the propagation run")
		resources = flag.Int("state-resources", 10000, "resources in the config topic of the rebuild run")
	)
	flag.Parse()
	if *only != "" && *only != "data" && *only != "plugins" && *only != "audit" && *only != "encryption" && *only != "concentration" && *only != "state" {
		fmt.Fprintf(os.Stderr, "bench: -only %q: expect data, plugins, audit, encryption, concentration or state\n", *only)
		os.Exit(2)
	}
	if err := run(*bootstrap, *binary, *only, *rounds, *records, *size, *rate, *latencyD, *changes, *resources); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bootstrap, binary, only string, rounds, records, size, rate int, latencyD time.Duration, changes, resources int) error {
	root, err := filepath.Abs(".")
	if err != nil {
		return err
	}
	if bootstrap == "" {
		script := filepath.Join(root, "e2e", "kafka", "kafka.sh")
		out, err := exec.Command(script, "start", "bench", "1", "21592").Output()
		if err != nil {
			return fmt.Errorf("start kafka: %w", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		bootstrap = lines[len(lines)-1]
		defer func() { _ = exec.Command(script, "stop", "bench").Run() }()
	}
	if binary == "" {
		binary = filepath.Join(root, ".cache", "bench", "strait")
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build strait: %w", err)
		}
	}
	fmt.Printf("machine: %s\n", machine())
	if only == "" || only == "data" {
		if err := data(binary, bootstrap, rounds, records, size, rate, latencyD); err != nil {
			return err
		}
	}
	if only == "" || only == "plugins" {
		if err := plugins(binary, bootstrap, 3, records/2, size); err != nil {
			return err
		}
	}
	if only == "" || only == "audit" {
		if err := audit(binary, bootstrap, rounds, records, size, rate, latencyD); err != nil {
			return err
		}
	}
	if only == "" || only == "encryption" {
		if err := encryptionBench(binary, bootstrap, rounds, records, size, rate, latencyD); err != nil {
			return err
		}
	}
	if only == "" || only == "concentration" {
		if err := concentrationBench(binary, bootstrap, rounds, records, size); err != nil {
			return err
		}
	}
	if only == "" || only == "state" {
		return state(binary, bootstrap, changes, resources)
	}
	return nil
}

// data compares produce and consume directly against the broker and
// through a strait process.
func data(binary, bootstrap string, rounds, records, size, rate int, latencyD time.Duration) error {
	gw, err := startGateway(binary, bootstrap, 24500, 24599)
	if err != nil {
		return err
	}
	defer gw.stop()

	fmt.Printf("load: %d records of %d bytes, acks=all, 3 partitions; latency at %d records/s for %s; %d alternating rounds\n\n",
		records, size, rate, latencyD, rounds)
	paths := []struct{ name, addr string }{{"direct", bootstrap}, {"gateway", gw.addr}}
	results := map[string][]result{}
	var gwCPU time.Duration
	var gwBytes int64
	// One discarded warm-up round lets the broker's JIT settle; after it
	// the order alternates (direct first, then gateway first) so neither
	// path always runs on a warmer broker.
	for _, p := range paths {
		if _, err := measure(p.addr, fmt.Sprintf("bench-warmup-%s-%d", p.name, time.Now().UnixNano()%1e6), records, size, rate, latencyD); err != nil {
			return fmt.Errorf("%s warm-up: %w", p.name, err)
		}
	}
	for r := range rounds {
		order := paths
		if r%2 == 1 {
			order = []struct{ name, addr string }{paths[1], paths[0]}
		}
		for _, p := range order {
			topic := fmt.Sprintf("bench-%s-%d-%d", p.name, r, time.Now().UnixNano()%1e6)
			cpu0 := gw.cpu()
			res, err := measure(p.addr, topic, records, size, rate, latencyD)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", p.name, r+1, err)
			}
			if p.name == "gateway" {
				gwCPU += gw.cpu() - cpu0
				gwBytes += res.bytes
			}
			results[p.name] = append(results[p.name], res)
			fmt.Printf("round %d %-8s produce %7.1f MB/s  consume %7.1f MB/s  p50 %6.2f ms  p99 %6.2f ms\n",
				r+1, p.name, res.produceMBps, res.consumeMBps, ms(res.p50), ms(res.p99))
		}
	}
	d, g := median(results["direct"]), median(results["gateway"])
	// Each round's gateway run is paired with that round's direct run, so
	// the broker's drift between rounds cancels out of the ratio.
	ratio := func(f func(result) float64) float64 {
		var rs []float64
		for i := range results["direct"] {
			rs = append(rs, f(results["gateway"][i])/f(results["direct"][i]))
		}
		return medianOf(rs)
	}
	delta := func(f func(result) time.Duration) float64 {
		var ds []float64
		for i := range results["direct"] {
			ds = append(ds, ms(f(results["gateway"][i])-f(results["direct"][i])))
		}
		return medianOf(ds)
	}
	fmt.Printf("\n                   direct    gateway   gateway vs direct (median of per-round pairs)\n")
	fmt.Printf("produce MB/s     %8.1f   %8.1f   %6.3fx\n", d.produceMBps, g.produceMBps, ratio(func(r result) float64 { return r.produceMBps }))
	fmt.Printf("consume MB/s     %8.1f   %8.1f   %6.3fx\n", d.consumeMBps, g.consumeMBps, ratio(func(r result) float64 { return r.consumeMBps }))
	fmt.Printf("p50 produce ms   %8.2f   %8.2f   %+6.2f ms\n", ms(d.p50), ms(g.p50), delta(func(r result) time.Duration { return r.p50 }))
	fmt.Printf("p99 produce ms   %8.2f   %8.2f   %+6.2f ms\n", ms(d.p99), ms(g.p99), delta(func(r result) time.Duration { return r.p99 }))
	if gwBytes > 0 {
		fmt.Printf("gateway CPU      %.2f CPU-seconds per GB moved (produce + consume)\n", gwCPU.Seconds()/(float64(gwBytes)/1e9))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median takes each figure's median over the rounds.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return medianOf(v)
	}
	return result{
		produceMBps: pick(func(r result) float64 { return r.produceMBps }),
		consumeMBps: pick(func(r result) float64 { return r.consumeMBps }),
		p50:         time.Duration(pick(func(r result) float64 { return float64(r.p50) })),
		p99:         time.Duration(pick(func(r result) float64 { return float64(r.p99) })),
	}
}

func medianOf(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

// gateway is a strait process under measurement.
type gateway struct {
	cmd  *exec.Cmd
	addr string
	url  string // base URL of the HTTP endpoints
}

// The admin API account every strait process of the bench has.
const adminUser, adminPassword = "bench", "bench-password"

// startGateway starts a strait process with Kafka listeners from port and
// HTTP on httpPort, and waits until it is ready. env adds settings, e.g.
// GATEWAY_CLUSTER_ID.
func startGateway(binary, bootstrap string, port, httpPort int, env ...string) (*gateway, error) {
	g, err := spawnGateway(binary, bootstrap, port, httpPort, env...)
	if err != nil {
		return nil, err
	}
	if err := waitReady(g.url+"/health/ready", 30*time.Second); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

// spawnGateway starts a strait process without waiting for it.
func spawnGateway(binary, bootstrap string, port, httpPort int, env ...string) (*gateway, error) {
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(),
		"KAFKA_BOOTSTRAP_SERVERS="+bootstrap,
		"GATEWAY_BIND_HOST=127.0.0.1",
		"GATEWAY_ADVERTISED_HOST=127.0.0.1",
		"GATEWAY_PORT_START="+strconv.Itoa(port),
		"GATEWAY_MIN_BROKERID=1",
		"GATEWAY_PORT_COUNT=3",
		"GATEWAY_HTTP_PORT="+strconv.Itoa(httpPort),
		"GATEWAY_LOG_LEVEL=warn",
		fmt.Sprintf(`GATEWAY_ADMIN_API_USERS=[{"username":%q,"password":%q,"admin":true}]`, adminUser, adminPassword),
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start strait: %w", err)
	}
	return &gateway{
		cmd:  cmd,
		addr: "127.0.0.1:" + strconv.Itoa(port),
		url:  "http://127.0.0.1:" + strconv.Itoa(httpPort),
	}, nil
}

func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	_ = g.cmd.Wait()
}

// cpu returns the user plus system CPU time the gateway has used so far.
func (g *gateway) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

func machine() string {
	cpu := "unknown cpu"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	return fmt.Sprintf("%d cores, %s", runtime.NumCPU(), cpu)
}
