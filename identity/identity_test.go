package identity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/store"
)

// testIdentity is an identity over fresh config and secrets topics in a
// kfake cluster, with the given resources applied.
func testIdentity(t *testing.T, cfg Config, docs ...string) *Identity {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	config, err := store.Open(ctx, opts, store.Config{Topic: "_strait_t_config"}, resource.Decode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(config.Close)
	for _, d := range docs {
		r, err := resource.Parse([]byte(d), "")
		if err != nil {
			t.Fatal(err)
		}
		if err := config.Put(ctx, r.Key(), r.Raw); err != nil {
			t.Fatal(err)
		}
	}
	id, err := Open(ctx, cfg, config, opts, store.Config{Topic: "_strait_t_secrets"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Close)
	return id
}

func testKeys(t *testing.T) *auth.Keys {
	t.Helper()
	k, err := auth.ParseKeys(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	vcTeam   = `{"apiVersion":"gateway/v2","kind":"VirtualCluster","metadata":{"name":"team"}}`
	saLocal  = `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"alice","vCluster":"team"},"spec":{"type":"LOCAL"}}`
	saExt    = `{"apiVersion":"gateway/v2","kind":"GatewayServiceAccount","metadata":{"name":"partner","vCluster":"team"},"spec":{"type":"EXTERNAL","externalNames":["partner-cn"]}}`
	grpTeam  = `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"readers"},"spec":{"members":[{"name":"alice","vCluster":"team"}],"externalGroups":["idp-readers"]}}`
	grpOther = `{"apiVersion":"gateway/v2","kind":"GatewayGroup","metadata":{"name":"ops"},"spec":{"externalGroups":["idp-ops"]}}`
)

// login runs a whole gateway-managed SASL exchange of one message.
func login(t *testing.T, id *Identity, mechanism, ip string, msg []byte) (*auth.Principal, error) {
	t.Helper()
	x, err := id.Begin(mechanism, ip)
	if err != nil {
		return nil, err
	}
	_, p, err := x.Step(msg)
	return p, err
}

func plainMsg(user, pass string) []byte { return []byte("\x00" + user + "\x00" + pass) }

func TestPlainTokens(t *testing.T) {
	limiter, err := auth.NewFailureLimiter(3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id := testIdentity(t, Config{Protocol: SASLPlaintext, Keys: testKeys(t), Limiter: limiter}, vcTeam, saLocal, saExt, grpTeam)
	tok, tokID, _, err := id.IssueToken("team", "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := login(t, id, "PLAIN", "10.0.0.1", plainMsg("alice", tok))
	if err != nil {
		t.Fatal(err)
	}
	got, err := id.Connect(p, nil, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if got.VCluster != "team" || got.Username != "alice" || !slices.Equal(got.Groups, []string{"readers"}) || got.TokenID != tokID {
		t.Fatalf("principal %+v", got)
	}

	for _, tc := range []struct {
		name, user, pass string
	}{
		{"other user's token", "bob", tok},
		{"not a token", "alice", "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := login(t, id, "PLAIN", "10.0.0.2", plainMsg(tc.user, tc.pass)); !errors.Is(err, errInvalid) {
				t.Fatalf("err = %v, want invalid credentials", err)
			}
		})
	}
	t.Run("EXTERNAL account gets no token", func(t *testing.T) {
		if _, _, _, err := id.IssueToken("team", "partner", time.Hour); !errors.Is(err, ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		var revoked []string
		id.WatchRevocations(func(tokenID string) { revoked = append(revoked, tokenID) })
		if err := id.RevokeToken(context.Background(), tok, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := login(t, id, "PLAIN", "10.0.0.3", plainMsg("alice", tok)); !errors.Is(err, errInvalid) {
			t.Fatalf("revoked token: err = %v", err)
		}
		if !slices.Equal(revoked, []string{tokID}) {
			t.Fatalf("watchers saw %v, want [%s]", revoked, tokID)
		}
	})
	t.Run("failures from one address are limited", func(t *testing.T) {
		ip := "10.9.9.9"
		for range 3 {
			_, _ = login(t, id, "PLAIN", ip, plainMsg("alice", "bad"))
		}
		if _, err := id.Begin("PLAIN", ip); err == nil || !strings.Contains(err.Error(), "too many") {
			t.Fatalf("fourth attempt: err = %v, want rate limited", err)
		}
		if _, err := id.Begin("PLAIN", "10.9.9.10"); err != nil {
			t.Fatalf("another address limited too: %v", err)
		}
	})
}

func TestScramLogins(t *testing.T) {
	id := testIdentity(t, Config{Protocol: SASLPlaintext}, vcTeam, saLocal)
	ctx := context.Background()
	if err := id.SetScram(ctx, "team", "alice", "SCRAM-SHA-256", "pw-alice-123", 0); err != nil {
		t.Fatal(err)
	}
	if err := id.SetScram(ctx, "team", "partner", "SCRAM-SHA-256", "pw", 0); err != nil {
		t.Fatal(err) // a not-yet-declared account may have credentials unless accounts are required
	}
	if !slices.Equal(id.Mechanisms(), []string{"SCRAM-SHA-256", "SCRAM-SHA-512"}) {
		t.Fatalf("mechanisms %v: PLAIN needs keys", id.Mechanisms())
	}
	if err := id.DeleteScram(ctx, "team", "nobody", "SCRAM-SHA-256"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	for _, s := range id.secrets.Snapshot().Entries {
		if s.scram != nil && strings.Contains(string(s.scram.Credential.StoredKey), "pw-alice-123") {
			t.Fatal("password stored")
		}
	}
	if _, ok := id.scramCredential("SCRAM-SHA-256")("team/alice"); !ok {
		t.Fatal("credential of team/alice not found by its login name")
	}
	if _, ok := id.scramCredential("SCRAM-SHA-512")("team/alice"); ok {
		t.Fatal("SHA-512 credential found though only SHA-256 was set")
	}
}

func TestConnectMapsExternalNames(t *testing.T) {
	rules, err := auth.ParseMappingRules("")
	if err != nil {
		t.Fatal(err)
	}
	id := testIdentity(t, Config{Protocol: SSL, Mapping: rules}, vcTeam, saExt, grpOther)
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "partner-cn", Organization: []string{"Acme"}}}
	cert.RawSubject, _ = asn1.Marshal(cert.Subject.ToRDNSequence())
	p, err := id.Connect(nil, &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}, "1.2.3.4")
	if err != nil {
		t.Fatal(err)
	}
	if p.VCluster != "team" || p.Username != "partner" || p.Mechanism != "MTLS" {
		t.Fatalf("mTLS principal %+v, want team/partner", p)
	}
	p, err = id.Connect(&auth.Principal{Username: "someone", Groups: []string{"idp-ops"}, Mechanism: "OAUTHBEARER"}, nil, "1.2.3.4")
	if err != nil {
		t.Fatal(err)
	}
	if p.VCluster != "passthrough" || !slices.Equal(p.Groups, []string{"ops"}) {
		t.Fatalf("OAuth principal %+v, want passthrough in group ops", p)
	}
	anon, err := id.Connect(nil, nil, "1.2.3.4")
	if err != nil || anon.Username != "ANONYMOUS" || anon.VCluster != "passthrough" {
		t.Fatalf("anonymous: %+v %v", anon, err)
	}
	strict := testIdentity(t, Config{Protocol: SASLPlaintext, MandatoryVCluster: true}, vcTeam)
	if _, err := strict.Connect(&auth.Principal{Username: "stranger", Mechanism: "OAUTHBEARER"}, nil, "1.2.3.4"); err == nil {
		t.Fatal("mandatory vCluster: stranger accepted")
	}
}

func TestDecodeSecretRejectsHandWrittenMistakes(t *testing.T) {
	for _, tc := range []struct{ name, key, value string }{
		{"unknown kind", `{"kind":"Password"}`, `{}`},
		{"key not canonical", `{"kind":"RevokedToken","id":"x"}`, `{"expires":1}`},
		{"revocation without id", `{"kind":"RevokedToken"}`, `{"expires":1}`},
		{"credential for another user", string(scramKey("team", "alice", "SCRAM-SHA-256")),
			`{"vCluster":"team","username":"bob","credential":{"mechanism":"SCRAM-SHA-256"}}`},
		{"credential without salt", string(scramKey("team", "alice", "SCRAM-SHA-256")),
			`{"vCluster":"team","username":"alice","credential":{"mechanism":"SCRAM-SHA-256","iterations":4096}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeSecret([]byte(tc.key), []byte(tc.value)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if s, err := decodeSecret(revokedKey("abc"), []byte(`{"expires":5}`)); err != nil || s.revoked.ID != "abc" {
		t.Fatalf("valid revocation: %+v %v", s, err)
	}
}
