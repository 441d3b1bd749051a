package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/vcluster"
)

// fakeIdentity accepts PLAIN logins "<vcluster>/<user>" with password
// "secret".
type fakeIdentity struct{}

func (fakeIdentity) Mechanisms() []string { return []string{"PLAIN"} }
func (fakeIdentity) Delegated() bool      { return false }
func (fakeIdentity) Begin(mechanism, _ string) (SASL, error) {
	if mechanism != "PLAIN" {
		return nil, errors.New("no such mechanism")
	}
	return fakePlain{}, nil
}
func (fakeIdentity) Connect(p *auth.Principal, _ *tls.ConnectionState, _ string) (auth.Principal, error) {
	return *p, nil
}
func (fakeIdentity) Space(vc string) *vcluster.Space { return vcluster.New(vc, nil) }
func (fakeIdentity) Access(auth.Principal, string) vcluster.Access {
	return nil
}

type fakePlain struct{}

func (fakePlain) Step(in []byte) ([]byte, *auth.Principal, error) {
	_, user, pass, err := auth.ParsePlain(in)
	if err != nil {
		return nil, nil, err
	}
	if pass != "secret" {
		return nil, nil, &Refusal{Username: user, Reason: "wrong password for " + user, Shown: errors.New("invalid credentials")}
	}
	vc, name, ok := strings.Cut(user, "/")
	if !ok {
		vc, name = vcluster.Passthrough, user
	}
	return nil, &auth.Principal{VCluster: vc, Username: name, Mechanism: "PLAIN"}, nil
}

func startSASLGateway(t *testing.T) *testGateway {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return startGatewayFor(t, cluster, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), func(c *Config) { c.Identity = fakeIdentity{} })
}

func plainLogin(user, pass string) kgo.Opt {
	return kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism())
}

func TestSASLGatewayManaged(t *testing.T) {
	tg := startSASLGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("wrong password is refused with SASL_AUTHENTICATION_FAILED", func(t *testing.T) {
		cl := tg.client(t, plainLogin("alice", "wrong"))
		err := cl.Ping(ctx)
		if !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("err = %v, want SASL_AUTHENTICATION_FAILED", err)
		}
	})

	t.Run("SASL APIs advertised even when the broker lists none", func(t *testing.T) {
		r := dialRaw(t, tg.addr())
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(3)
		resp := r.roundTrip(req, 1).(*kmsg.ApiVersionsResponse)
		want := map[int16][2]int16{keySaslHandshake: {0, 1}, keySaslAuthenticate: {0, 2}}
		for _, k := range resp.ApiKeys {
			if w, ok := want[k.ApiKey]; ok {
				if k.MinVersion != w[0] || k.MaxVersion != w[1] {
					t.Errorf("key %d: v%d–v%d, want v%d–v%d", k.ApiKey, k.MinVersion, k.MaxVersion, w[0], w[1])
				}
				delete(want, k.ApiKey)
			}
		}
		if len(want) > 0 {
			t.Fatalf("not advertised: %v", want)
		}
	})

	t.Run("request before authentication closes the connection", func(t *testing.T) {
		r := dialRaw(t, tg.addr())
		r.send(kmsg.NewPtrMetadataRequest(), 1)
		if !r.closedByPeer() {
			t.Fatal("gateway answered a Metadata request before SASL")
		}
	})

	t.Run("tenants see only their own topics under logical names", func(t *testing.T) {
		a := tg.client(t, plainLogin("team-a/alice", "secret"), kgo.DefaultProduceTopic("orders"), kgo.AllowAutoTopicCreation())
		b := tg.client(t, plainLogin("team-b/bob", "secret"), kgo.DefaultProduceTopic("orders"), kgo.AllowAutoTopicCreation())
		if err := a.ProduceSync(ctx, &kgo.Record{Value: []byte("from a")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := b.ProduceSync(ctx, &kgo.Record{Value: []byte("from b")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		physical := kadm.NewClient(tg.client(t, plainLogin("ops", "secret")))
		topics, err := physical.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := topics.Names(); !slices.Contains(names, "team-a.orders") || !slices.Contains(names, "team-b.orders") {
			t.Fatalf("physical topics %v, want team-a.orders and team-b.orders", names)
		}
		seen, err := kadm.NewClient(a).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := seen.Names(); !slices.Equal(names, []string{"orders"}) {
			t.Fatalf("team-a sees %v, want [orders]", names)
		}
		c := tg.client(t, plainLogin("team-a/alice", "secret"), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		fs := c.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		var got []string
		fs.EachRecord(func(r *kgo.Record) { got = append(got, r.Topic+"="+string(r.Value)) })
		if !slices.Equal(got, []string{"orders=from a"}) {
			t.Fatalf("team-a consumed %v, want [orders=from a]", got)
		}
	})

	t.Run("Disconnect closes matching connections", func(t *testing.T) {
		cl := tg.client(t, plainLogin("team-c/carol", "secret"))
		if err := cl.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		n := tg.gw.Disconnect(func(p auth.Principal) bool { return p.Username == "carol" && p.VCluster == "team-c" })
		if n == 0 {
			t.Fatal("no connection of carol closed")
		}
	})
}
