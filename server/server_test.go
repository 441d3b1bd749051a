package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/backing"
)

func mapEnv(m map[string]string) backing.Env {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestFromEnv(t *testing.T) {
	cfg, err := FromEnv(mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BindHost != "0.0.0.0" || cfg.PortStart != 6969 || cfg.HTTPPort != 8888 || cfg.AdvertisedHost != "localhost" ||
		cfg.MaxFrameBytes != 104857600 || !cfg.Embedded || cfg.PortCount != 0 || cfg.MinBrokerID != 0 {
		t.Fatalf("defaults: %+v", cfg)
	}
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"GATEWAY_PORT_START": "sixty"}, "GATEWAY_PORT_START"},
		{map[string]string{"GATEWAY_PORT_START": "70000"}, "GATEWAY_PORT_START"},
		{map[string]string{"GATEWAY_PORT_START": "65530", "GATEWAY_PORT_COUNT": "10"}, "past port 65535"},
		{map[string]string{"GATEWAY_SOCKET_REQUEST_MAX_BYTES": "10"}, "GATEWAY_SOCKET_REQUEST_MAX_BYTES"},
		{map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "KAFKA_SECURITY_PROTOCOL": "nope"}, "KAFKA_SECURITY_PROTOCOL"},
		{map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}, "GATEWAY_ADMIN_API_USERS"},
		{map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "GATEWAY_ADMIN_API_USERS": `[{"username":"ro","password":"12345678","admin":false}]`}, "no admin user"},
		{map[string]string{"GATEWAY_CLUSTER_ID": "has space"}, "GATEWAY_CLUSTER_ID"},
	} {
		if _, err := FromEnv(mapEnv(tc.env)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err = %v, want one naming %s", tc.env, err, tc.wantErr)
		}
	}
	cfg, err = FromEnv(mapEnv(map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "GATEWAY_MIN_BROKERID": "100",
		"GATEWAY_ADMIN_API_USERS": `[{"username":"ops","password":"a-long-secret","admin":true}]`}))
	if err != nil || cfg.Embedded || len(cfg.Backing.Bootstrap) != 2 || cfg.MinBrokerID != 100 {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
}

func testConfig() Config {
	return Config{
		BindHost: "127.0.0.1", AdvertisedHost: "127.0.0.1", PortStart: 0, HTTPPort: 0,
		MaxFrameBytes: 1 << 20, MaxInFlight: 100, DrainTimeout: time.Second, RefreshInterval: 200 * time.Millisecond,
	}
}

func health(t *testing.T, s *Server, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	for port := 31000; port < 32000; port += 10 {
		cfg.PortStart = port
		s, err := Start(context.Background(), cfg, zaptest.NewLogger(t))
		if err == nil {
			t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
			return s
		}
		if !strings.Contains(err.Error(), "in use") {
			t.Fatal(err)
		}
	}
	t.Fatal("no free ports")
	return nil
}

func TestHealthOnEmbeddedCluster(t *testing.T) {
	cfg := testConfig()
	cfg.Embedded, cfg.EmbeddedBrokers = true, 2
	s := start(t, cfg)
	if code, _ := health(t, s, "/health/live"); code != http.StatusOK {
		t.Fatalf("live: %d", code)
	}
	if code, body := health(t, s, "/health/ready"); code != http.StatusOK || body["status"] != "UP" {
		t.Fatalf("ready: %d %v", code, body)
	}
}

func TestNotReadyWhenBackingGoesAway(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Backing = backing.Config{Bootstrap: c.ListenAddrs(), SecurityProtocol: "PLAINTEXT"}
	cfg.PortCount = 3
	s := start(t, cfg)
	if code, body := health(t, s, "/health/ready"); code != http.StatusOK {
		t.Fatalf("ready before the cluster went away: %d %v", code, body)
	}
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := health(t, s, "/health/ready")
		checks, _ := body["checks"].(map[string]any)
		if code == http.StatusServiceUnavailable && checks["listeners"] == true && checks["backingCluster"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d %v after the backing cluster went away", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := health(t, s, "/health/live"); code != http.StatusOK {
		t.Fatalf("live: %d", code)
	}
}

func TestStartWaitsForTheConfigTopic(t *testing.T) {
	cfg := testConfig()
	cfg.Backing = backing.Config{Bootstrap: []string{"127.0.0.1:1"}, SecurityProtocol: "PLAINTEXT"}
	cfg.PortCount = 3
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if s, err := Start(ctx, cfg, zaptest.NewLogger(t)); err == nil {
		_ = s.Shutdown(context.Background())
		t.Fatal("started without its configuration")
	}
}
