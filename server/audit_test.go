package server

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strait-gateway/strait/audit"
	"github.com/strait-gateway/strait/audit/audittest"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/store"
)

func TestInterceptorEvent(t *testing.T) {
	for action, want := range map[interceptor.Action]audit.Type{
		interceptor.Block: audit.InterceptorBlocked, interceptor.Info: audit.InterceptorInfo,
		interceptor.Override: audit.InterceptorOverridden, interceptor.Throttle: audit.InterceptorThrottled,
		interceptor.Audited: audit.RequestAudited,
	} {
		e := interceptorEvent(interceptor.Event{
			Action: action, Plugin: "CreateTopicPolicy", Interceptor: "limit", ConnID: "c-1", VCluster: "vc", Username: "u",
			ClientIP: "10.0.0.1", Key: 19, Topic: "t", Reason: "r", Partitions: []int32{0}, Group: "g",
		})
		wantData := audit.InterceptorData{
			Connection: audit.Connection{ID: "c-1", ClientAddress: "10.0.0.1"}, Principal: audit.Principal{VCluster: "vc", Username: "u"},
			Interceptor: "limit", Plugin: "CreateTopicPolicy", APIKey: "CreateTopics", Topic: "t", Partitions: []int32{0}, GroupID: "g", Reason: "r",
		}
		if e.Type != want || e.Subject != "c-1" || !reflect.DeepEqual(e.Data, wantData) {
			t.Errorf("%s: %+v", action, e)
		}
	}
}

func TestConfigOutcome(t *testing.T) {
	rec := &audittest.Recorder{}
	s := &Server{cfg: Config{ClusterID: "gw"}, audit: rec}
	for _, o := range []store.Outcome{
		{Offset: 1, Key: []byte("k1"), Value: []byte(`{"password":"hunter2"}`), Loading: true}, // replayed: not reported
		{Offset: 2, Key: []byte("k2"), Value: []byte(`{"x":1}`), Err: errors.New("bad"), Loading: true},
		{Offset: 3, Key: []byte("k3"), Value: []byte(`{"spec":{"password":"hunter2"}}`)},
		{Offset: 4, Key: []byte("k3")},
	} {
		s.configOutcome(o)
	}
	evs := rec.Events()
	want := []struct {
		typ     audit.Type
		key, op string
		value   string
		reason  string
		startup bool
	}{
		{audit.ConfigRejected, "k2", "upsert", `{"x":1}`, "bad", true},
		{audit.ConfigApplied, "k3", "upsert", `{"spec":{"password":"[REDACTED]"}}`, "", false},
		{audit.ConfigApplied, "k3", "delete", "", "", false},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, w := range want {
		d := evs[i].Data.(audit.ConfigData)
		if evs[i].Type != w.typ || evs[i].Subject != w.key || d.Key != w.key || d.Operation != w.op || string(d.Value) != w.value ||
			d.Reason != w.reason || d.Startup != w.startup || d.Topic != "_strait_gw_config" {
			t.Errorf("event %d: %s %+v", i, evs[i].Type, d)
		}
	}
}

func TestAuditFromEnv(t *testing.T) {
	cfg, err := FromEnv(mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Audit; a.Disabled || a.Partitions != 3 || a.Retention != 7*24*time.Hour || a.Buffer != 100000 || cfg.AuditTopic() != "_strait_gateway_audit" {
		t.Fatalf("defaults: %+v, topic %s", a, cfg.AuditTopic())
	}
	cfg, err = FromEnv(mapEnv(map[string]string{"GATEWAY_AUDIT_ENABLED": "false", "GATEWAY_AUDIT_TOPIC": "sec.audit",
		"GATEWAY_AUDIT_PARTITIONS": "12", "GATEWAY_AUDIT_RETENTION_MS": "-1", "GATEWAY_AUDIT_BUFFER_EVENTS": "500", "GATEWAY_AUDIT_REPLICATION_FACTOR": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Audit; !a.Disabled || a.Partitions != 12 || a.Retention >= 0 || a.Buffer != 500 || a.ReplicationFactor != 3 || cfg.AuditTopic() != "sec.audit" {
		t.Fatalf("set: %+v", a)
	}
	for env, want := range map[string]string{
		"GATEWAY_AUDIT_RETENTION_MS": "0", "GATEWAY_AUDIT_BUFFER_EVENTS": "0", "GATEWAY_AUDIT_PARTITIONS": "none", "GATEWAY_AUDIT_ENABLED": "maybe",
	} {
		if _, err := FromEnv(mapEnv(map[string]string{env: want})); err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%s: err = %v", env, want, err)
		}
	}
}
