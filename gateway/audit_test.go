package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/audit/audittest"
)

// TestAuditTrail checks each connection's events: opened, then the
// authentication outcome, then closed, under one subject, with the
// refusal's reason kept from the client.
func TestAuditTrail(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	rec := &audittest.Recorder{}
	tg := startGatewayFor(t, cluster, zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)), func(c *Config) {
		c.Identity = fakeIdentity{}
		c.Audit = rec
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	bad := tg.client(t, plainLogin("team-a/alice", "wrong"))
	err = bad.Ping(ctx)
	if err == nil || strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("client saw %v; want a refusal without the audit reason", err)
	}
	bad.Close()
	good := tg.client(t, plainLogin("team-a/bob", "secret"))
	if err := good.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	good.Close()

	closed := rec.Wait(10*time.Second, func(evs []audit.Event) bool { return len(evs) >= 2 }, audit.ConnectionClosed)
	if len(closed) < 2 {
		t.Fatalf("%d close events, want at least 2", len(closed))
	}
	var sawFailure, sawSuccess bool
	ids := map[string]bool{}
	for _, c := range closed {
		if ids[c.Subject] {
			t.Fatalf("connection id %s used twice", c.Subject)
		}
		ids[c.Subject] = true
		trail := rec.Subject(c.Subject)
		types := make([]audit.Type, len(trail))
		for i, e := range trail {
			types[i] = e.Type
		}
		if len(trail) != 3 || trail[0].Type != audit.ConnectionOpened || trail[2].Type != audit.ConnectionClosed {
			// A client's bootstrap connection may be closed before it
			// authenticates; only authenticated trails are checked.
			if len(trail) == 2 && trail[0].Type == audit.ConnectionOpened {
				continue
			}
			t.Fatalf("connection %s: events %v", c.Subject, types)
		}
		open := trail[0].Data.(audit.ConnectionData)
		if open.Connection.ID != c.Subject || !strings.HasPrefix(open.Connection.ClientAddress, "127.0.0.1:") || open.Connection.Listener != tg.addr() {
			t.Fatalf("opened: %+v", open)
		}
		switch a := trail[1].Data.(audit.AuthData); trail[1].Type {
		case audit.AuthFailed:
			sawFailure = true
			if a.Mechanism != "PLAIN" || a.Reason != "wrong password for team-a/alice" || a.Principal == nil || a.Principal.Username != "team-a/alice" {
				t.Fatalf("auth failure: %+v", a)
			}
			if p := c.Data.(audit.ConnectionData).Principal; p != nil {
				t.Fatalf("refused connection closed with principal %+v", p)
			}
		case audit.AuthSucceeded:
			sawSuccess = true
			if a.Mechanism != "PLAIN" || a.Principal == nil || a.Principal.VCluster != "team-a" || a.Principal.Username != "bob" {
				t.Fatalf("auth success: %+v", a)
			}
			if p := c.Data.(audit.ConnectionData).Principal; p == nil || p.Username != "bob" {
				t.Fatalf("closed without the principal: %+v", c.Data)
			}
		default:
			t.Fatalf("connection %s: events %v", c.Subject, types)
		}
	}
	if !sawFailure || !sawSuccess {
		t.Fatalf("failure seen %v, success seen %v", sawFailure, sawSuccess)
	}
}
