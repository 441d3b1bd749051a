package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBinaryZeroSetupAndSIGTERM runs the strait binary as a user would with
// `go run .`: no KAFKA_BOOTSTRAP_SERVERS, so it must start the embedded
// cluster and say so; clients must work through it; SIGTERM must stop it
// cleanly.
func TestBinaryZeroSetupAndSIGTERM(t *testing.T) {
	port, httpPort := freePort(), freePort()
	p := startProcess(t,
		"GATEWAY_BIND_HOST=127.0.0.1", "GATEWAY_ADVERTISED_HOST=127.0.0.1",
		"GATEWAY_PORT_START="+strconv.Itoa(port), "GATEWAY_PORT_COUNT=1",
		"GATEWAY_HTTP_PORT="+strconv.Itoa(httpPort))
	waitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/health/ready")
	if !strings.Contains(p.output(), "embedded in-memory Kafka") {
		t.Fatalf("no log line saying the embedded cluster started:\n%s", p.output())
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	b := &backend{name: "binary", gateway: nil, nodes: 1}
	topic := newTopicAt(t, addr, b, "binary", 1)
	franzGo{}.produce(t, addr, topic, "bin", 100)
	checkRecords(t, consumeGo(t, addr, topic, "g-"+topic, 100), "bin", 100)

	if err := p.stop(t, 20*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.output())
	}
	if !strings.Contains(p.output(), "stopped") {
		t.Fatalf("no clean stop logged:\n%s", p.output())
	}
}

func filterEnv(env []string, prefix string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, prefix) && !strings.HasPrefix(e, "GATEWAY_") {
			out = append(out, e)
		}
	}
	return out
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}
