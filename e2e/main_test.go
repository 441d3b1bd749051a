package e2e

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/admin"
	"github.com/strait-gateway/strait/backing"
	"github.com/strait-gateway/strait/server"
)

// repoRoot is the repository's top directory (tests run in e2e/).
var repoRoot, _ = filepath.Abs("..")

// backend is a backing cluster with a Strait node in front of it.
type backend struct {
	name    string
	direct  string // bootstrap of the backing cluster itself
	gateway *server.Server
	kafka   string // kafka.sh cluster name, empty for the embedded cluster
	nodes   int
}

// gatewayAddr is the bootstrap address clients use.
func (b *backend) gatewayAddr() string { return b.gateway.KafkaAddr() }

var (
	single   *backend // real Kafka, one node
	trio     *backend // real Kafka, three nodes
	embedded *backend // franz-go kfake inside the Strait process
)

// requireReal skips a test that needs the real Kafka clusters when they
// were not started: `go test -short` (make test-short) runs the
// in-process tier only, and `make test` runs everything.
func requireReal(t *testing.T) {
	t.Helper()
	if single == nil {
		t.Skip("-short: the real Kafka clusters are not started; make test runs this test")
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer removeBinary()
	var err error
	if embedded, err = startEmbedded(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stopBackend(embedded)
	if testing.Short() {
		fmt.Println("e2e: -short: running against the embedded cluster only; real Kafka tests are not run")
		return m.Run()
	}
	if single, err = startKafka("single", 1, 21092); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stopBackend(single)
	if trio, err = startKafka("trio", 3, 21292); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stopBackend(trio)
	if secured, err = startSecuredKafka("secured", 22092); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stopSecuredKafka(secured)
	return m.Run()
}

// startKafka starts a real Kafka cluster with kafka.sh and a gateway in
// front of it.
func startKafka(name string, nodes, basePort int) (*backend, error) {
	script := filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "start", name, strconv.Itoa(nodes), strconv.Itoa(basePort))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		_ = exec.Command(script, "stop", name).Run()
		return nil, fmt.Errorf("start kafka %s: %w", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	bootstrap := strings.TrimSpace(lines[len(lines)-1])
	b := &backend{name: name, direct: bootstrap, kafka: name, nodes: nodes}
	cfg := gatewayConfig()
	cfg.Backing = backing.Config{Bootstrap: strings.Split(bootstrap, ","), SecurityProtocol: "PLAINTEXT"}
	cfg.MinBrokerID = 1 // kafka.sh numbers nodes from 1
	cfg.PortCount = nodes + 2
	if b.gateway, err = startGateway(cfg); err != nil {
		_ = exec.Command(script, "stop", name).Run()
		return nil, err
	}
	return b, nil
}

func startEmbedded() (*backend, error) {
	cfg := gatewayConfig()
	cfg.Embedded, cfg.EmbeddedBrokers = true, 1
	cfg.PortCount = 3
	srv, err := startGateway(cfg)
	if err != nil {
		return nil, err
	}
	return &backend{name: "embedded", direct: srv.Embedded().Cluster().ListenAddrs()[0], gateway: srv, nodes: 1}, nil
}

// e2eAdminUsers is the admin API account of the e2e gateways.
const e2eAdminUsers = `[{"username":"e2e-admin","password":"e2e-admin-password","admin":true}]`

func gatewayConfig() server.Config {
	users, err := admin.ParseUsers(e2eAdminUsers)
	if err != nil {
		panic(err)
	}
	return server.Config{
		AdminUsers:      users,
		BindHost:        "127.0.0.1",
		AdvertisedHost:  "127.0.0.1",
		HTTPPort:        0,
		MaxFrameBytes:   104857600,
		MaxInFlight:     1000,
		DrainTimeout:    10 * time.Second,
		RefreshInterval: 2 * time.Second,
	}
}

// startGateway starts a node on a free port range.
func startGateway(cfg server.Config) (*server.Server, error) {
	log, err := zap.NewDevelopment(zap.IncreaseLevel(zap.WarnLevel))
	if err != nil {
		return nil, err
	}
	for range 20 {
		cfg.PortStart = freePort()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		srv, err := server.Start(ctx, cfg, log)
		cancel()
		if err == nil {
			return srv, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no free port range for the gateway")
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 20000
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func stopBackend(b *backend) {
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = b.gateway.Shutdown(ctx)
	cancel()
	if b.kafka != "" {
		_ = exec.Command(filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh"), "stop", b.kafka).Run()
	}
}

// backends returns the backends a client test runs against.
func backends(t *testing.T) []*backend {
	if testing.Short() {
		return []*backend{embedded}
	}
	return []*backend{single, embedded}
}
