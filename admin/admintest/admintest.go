// Package admintest serves the real admin API over a config store in an
// in-process kfake cluster, for tests of the API and of its clients.
package admintest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/admin"
	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/store"
)

// Users are the accounts of the handler: admin/admin-password may write,
// viewer/viewer-password may only read.
var Users = []admin.User{
	{Username: "admin", Password: "admin-password", Admin: true},
	{Username: "viewer", Password: "viewer-password"},
}

// Handler returns the admin API of a fresh node; everything it started
// stops when the test ends.
func Handler(t testing.TB) http.Handler {
	t.Helper()
	return AuditedHandler(t, audit.Discard)
}

// AuditedHandler is Handler with the API's audit events sent to e.
func AuditedHandler(t testing.TB, e audit.Emitter) http.Handler {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := store.Open(ctx, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
		store.Config{Topic: "_strait_test_config"}, resource.Decode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	mux := http.NewServeMux()
	admin.New(st, Users, zaptest.NewLogger(t)).WithAudit(e).Register(mux)
	return mux
}
