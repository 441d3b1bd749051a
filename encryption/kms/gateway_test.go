package kms

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/encryption/keystore"
	"github.com/strait-gateway/strait/store"
)

func TestGatewayCheck(t *testing.T) {
	zero, three := 0, 3
	tests := []struct {
		g    GatewayConfig
		want string
	}{
		{GatewayConfig{MasterKeyID: "in-memory-kms://master"}, ""},
		{GatewayConfig{MasterKeyID: "vault-kms://vault:8200/transit/keys/master", MaxKeys: &three}, ""},
		{GatewayConfig{}, "masterKeyId: required"},
		{GatewayConfig{MasterKeyID: "gateway-kms://master"}, "another KMS"},
		{GatewayConfig{MasterKeyID: "in-memory-kms://{{record.key}}"}, "without placeholders"},
		{GatewayConfig{MasterKeyID: "master"}, "no KMS prefix"},
		{GatewayConfig{MasterKeyID: "in-memory-kms://master", MaxKeys: &zero}, "maxKeys"},
	}
	for _, tt := range tests {
		err := (&Config{Gateway: &tt.g}).Check("kmsConfig")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.g, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "kmsConfig.gateway.")):
			t.Errorf("%+v: error %v, want kmsConfig.gateway.…%q", tt.g, err, tt.want)
		}
	}
}

// openStores opens n key stores on one embedded Kafka, as n nodes would.
func openStores(t *testing.T, n int) []*keystore.Store {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stores []*keystore.Store
	for range n {
		s, err := keystore.Open(ctx, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, store.Config{Topic: "_strait_test_keys"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores = append(stores, s)
	}
	return stores
}

func TestGatewayRouting(t *testing.T) {
	st := openStores(t, 1)[0]
	withMaster := &Config{Gateway: &GatewayConfig{MasterKeyID: "in-memory-kms://route-master"}}
	tests := []struct {
		cfg   *Config
		store encryption.KeyStore
		want  string
	}{
		{&Config{}, st, "need kmsConfig.gateway.masterKeyId"},
		{withMaster, nil, "not available on this node"},
		{withMaster, st, ""},
	}
	for _, tt := range tests {
		resolve, err := Open(tt.cfg, nil, tt.store)
		if err != nil {
			t.Fatal(err)
		}
		k, keyID, err := resolve("gateway-kms://customer-1")
		switch {
		case tt.want == "" && (err != nil || k == nil || keyID != "customer-1"):
			t.Errorf("resolve = %v, %q, %v", k, keyID, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("resolve error %v, want %q", err, tt.want)
		}
	}
}

// TestGatewaySealOpenShred: a data key made on one node opens on another;
// shredding it stops the other node at once, although it holds the key.
func TestGatewaySealOpenShred(t *testing.T) {
	stores := openStores(t, 2)
	cfg := &Config{Gateway: &GatewayConfig{MasterKeyID: "in-memory-kms://shred-master"}}
	var keys []*encryption.Keys
	for _, st := range stores {
		resolve, err := Open(cfg, nil, st)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, encryption.NewKeys(resolve, time.Hour))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	aad := encryption.Context("orders", "value")
	seal := func(customer string) []byte {
		env, err := keys[0].Seal(ctx, "gateway-kms://customer-"+customer, encryption.AES256GCM, []byte("secret-"+customer), aad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		return env
	}
	a, b := seal("a"), seal("b")
	for _, env := range [][]byte{a, b} {
		if _, err := keys[1].Open(ctx, env, aad); err != nil {
			t.Fatalf("Open on the other node: %v", err)
		}
	}
	if n, err := stores[0].Shred(ctx, "customer-a"); err != nil || n != 1 {
		t.Fatalf("Shred = %d, %v", n, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, err := keys[1].Open(ctx, a, aad)
		if err != nil && strings.Contains(err.Error(), "crypto-shredded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other node still opens a shredded key: %v", err)
		}
	}
	if pt, err := keys[1].Open(ctx, b, aad); err != nil || string(pt) != "secret-b" {
		t.Fatalf("Open of another customer = %q, %v", pt, err)
	}
	if _, err := keys[0].Open(ctx, a, aad); err == nil {
		t.Fatal("the writing node still opens a shredded key")
	}
	// New records of the shredded customer get a new data key.
	again := seal("a")
	old, err := encryption.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := encryption.Parse(again); err != nil || bytes.Equal(e.Wrapped, old.Wrapped) {
		t.Fatal("a shredded data key was used again")
	}
	if pt, err := keys[1].Open(ctx, again, aad); err != nil || string(pt) != "secret-a" {
		t.Fatalf("Open of a new key = %q, %v", pt, err)
	}
}

func TestGatewayMaxKeys(t *testing.T) {
	st := openStores(t, 1)[0]
	master := func() (encryption.KMS, string, error) { return memory, "max-master", nil }
	g := newGatewayKMS(st, master, 2)
	ctx := context.Background()
	var refs [][]byte
	for i := range 5 {
		ref, err := g.Wrap(ctx, "k", []byte{byte(i), 1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if len(g.cache) != 2 {
		t.Fatalf("%d keys cached, want 2", len(g.cache))
	}
	for i, ref := range refs { // evicted keys come back from the store
		if dek, err := g.Unwrap(ctx, "k", ref); err != nil || dek[0] != byte(i) {
			t.Fatalf("Unwrap %d = %v, %v", i, dek, err)
		}
	}
}
