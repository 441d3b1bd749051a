package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryZeroSetupAndSIGTERM runs the strait binary as a user would with
// `go run .`: no KAFKA_BOOTSTRAP_SERVERS, so it must start the embedded
// cluster and say so; clients must work through it; SIGTERM must stop it
// cleanly.
func TestBinaryZeroSetupAndSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "strait")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	port, httpPort := freePort(), freePort()
	cmd := exec.Command(bin)
	cmd.Env = append(filterEnv(os.Environ(), "KAFKA_"),
		"GATEWAY_BIND_HOST=127.0.0.1", "GATEWAY_ADVERTISED_HOST=127.0.0.1",
		"GATEWAY_PORT_START="+strconv.Itoa(port), "GATEWAY_PORT_COUNT=1",
		"GATEWAY_HTTP_PORT="+strconv.Itoa(httpPort))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
	}()
	waitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/health/ready")
	if !strings.Contains(logs.String(), "embedded in-memory Kafka") {
		t.Fatalf("no log line saying the embedded cluster started:\n%s", logs.String())
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	b := &backend{name: "binary", gateway: nil, nodes: 1}
	topic := newTopicAt(t, addr, b, "binary", 1)
	franzGo{}.produce(t, addr, topic, "bin", 100)
	checkRecords(t, consumeGo(t, addr, topic, "g-"+topic, 100), "bin", 100)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Fatalf("no clean stop logged:\n%s", logs.String())
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
