package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCLIAgainstBinary starts the strait binary with no arguments (the
// embedded gateway and its development admin user), then uses the same
// binary as the CLI in another process: apply a file, get it back, and
// apply what get printed, which must change nothing.
func TestCLIAgainstBinary(t *testing.T) {
	httpPort := freePort()
	gw := startProcess(t,
		"GATEWAY_BIND_HOST=127.0.0.1", "GATEWAY_ADVERTISED_HOST=127.0.0.1",
		"GATEWAY_PORT_START="+strconv.Itoa(freePort()), "GATEWAY_PORT_COUNT=1",
		"GATEWAY_HTTP_PORT="+strconv.Itoa(httpPort))
	bin := straitBinary(t)
	url := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	waitHTTP(t, url+"/health/ready")

	cli := func(password string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(filterEnv(os.Environ(), "STRAIT_"),
			"STRAIT_URL="+url, "STRAIT_USER=admin", "STRAIT_PASSWORD="+password)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("strait %s: %v", strings.Join(args, " "), err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "resources.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: gateway/v2
kind: Interceptor
metadata: {name: enforce-partitions, scope: {vCluster: vc-cli}}
spec:
  pluginClass: io.conduktor.gateway.interceptor.safeguard.CreateTopicPolicyPlugin
  priority: 100
  config: {topic: ".*", numPartition: {min: 1, max: 6, action: BLOCK}}
---
apiVersion: gateway/v2
kind: VirtualCluster
metadata: {name: vc-cli}
spec: {aclEnabled: false}
`), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := cli("strait-dev-only", "apply", "-f", file)
	want := "VirtualCluster/vc-cli: CREATED\nInterceptor/enforce-partitions (scope vCluster=vc-cli): CREATED\n"
	if code != 0 || stdout != want {
		t.Fatalf("apply: exit %d\nstdout: %s\nstderr: %s\nwant: %s", code, stdout, stderr, want)
	}
	code, stdout, stderr = cli("strait-dev-only", "get", "interceptors", "--vcluster", "vc-cli")
	if code != 0 || !strings.Contains(stdout, "name: enforce-partitions") || !strings.Contains(stdout, "action: BLOCK") {
		t.Fatalf("get: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	got := filepath.Join(dir, "got.yaml")
	if err := os.WriteFile(got, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = cli("strait-dev-only", "apply", "-f", got)
	if code != 0 || stdout != "Interceptor/enforce-partitions (scope vCluster=vc-cli): NOT_CHANGED\n" {
		t.Fatalf("apply of get's output: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, _, stderr = cli("not-the-password", "get", "virtual-cluster", "vc-cli")
	if code != 1 || !strings.Contains(stderr, "401 Unauthorized") || strings.Contains(stderr, "not-the-password") {
		t.Fatalf("wrong password: exit %d, stderr: %s", code, stderr)
	}

	if err := gw.stop(t, 20*time.Second); err != nil {
		t.Fatalf("gateway exit after SIGTERM: %v\n%s", err, gw.output())
	}
}
