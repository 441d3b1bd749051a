package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/audit"
)

// TestAuditBufferSurvivesClusterRestart: while the backing cluster is down,
// an audit log keeps its first Buffer events and drops the rest without
// blocking; once the cluster is back, exactly the kept events are written,
// once each and in order per subject.
func TestAuditBufferSurvivesClusterRestart(t *testing.T) {
	requireReal(t)
	const (
		buffer   = 40000
		emitted  = 100000
		subjects = 100
	)
	script := filepath.Join(repoRoot, "e2e", "kafka", "kafka.sh")
	kafka := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kafka.sh %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	name := "auditbuf"
	t.Cleanup(func() { _ = exec.Command(script, "stop", name).Run() })
	lines := strings.Split(kafka("start", name, "1", "23492"), "\n")
	bootstrap := lines[len(lines)-1]

	reg := prometheus.NewRegistry()
	topic := "_strait_auditbuf_audit"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log, err := audit.Open([]kgo.Opt{kgo.SeedBrokers(bootstrap)}, audit.Config{
		Topic: topic, Partitions: 3, ReplicationFactor: 1, Retention: time.Hour, Buffer: buffer,
		Source: "strait://auditbuf/node-1", Registry: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := log.CreateTopic(ctx); err != nil {
		t.Fatal(err)
	}
	type seqData struct {
		Seq int `json:"seq"`
	}
	log.Emit(audit.Event{Type: audit.ConnectionOpened, Subject: "first", Data: seqData{Seq: -1}})
	waitCounter(t, reg, "strait_audit_events_written_total", "", 1, 30*time.Second)

	kafka("stop-node", name, "1")
	start := time.Now()
	for i := range emitted {
		log.Emit(audit.Event{Type: audit.ConnectionOpened, Subject: fmt.Sprintf("conn-%03d", i%subjects), Data: seqData{Seq: i}})
	}
	took := time.Since(start)
	t.Logf("%d events emitted with the cluster down in %v", emitted, took)
	if took > 5*time.Second {
		t.Fatalf("emitting %d events took %v: Emit blocks", emitted, took)
	}
	if got := counter(t, reg, "strait_audit_events_dropped_total", "buffer_full"); got != emitted-buffer {
		t.Fatalf("dropped buffer_full = %v, want %d", got, emitted-buffer)
	}

	kafka("start-node", name, "1")
	waitCounter(t, reg, "strait_audit_events_written_total", "", buffer+1, 2*time.Minute)
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 10*time.Second)
	log.Close(closeCtx)
	closeCancel()
	if got := counter(t, reg, "strait_audit_events_dropped_total", "delivery_failed"); got != 0 {
		t.Fatalf("dropped delivery_failed = %v, want 0", got)
	}

	all := readAudit(t, bootstrap, topic, func([]auditRecord) bool { return true })
	if len(all) != buffer+1 {
		t.Fatalf("%d events in the topic, want %d", len(all), buffer+1)
	}
	ids := map[string]bool{}
	seen := make([]bool, emitted)
	last := map[string]int{}
	for _, r := range all {
		if ids[r.ev.ID] {
			t.Fatalf("event id %s written twice", r.ev.ID)
		}
		ids[r.ev.ID] = true
		seq := decodeData[seqData](t, r).Seq
		if seq == -1 {
			continue
		}
		if seq < 0 || seq >= buffer || seen[seq] {
			t.Fatalf("event %d in the topic: want each of the first %d emitted once", seq, buffer)
		}
		seen[seq] = true
		if prev, ok := last[r.ev.Subject]; ok && seq <= prev {
			t.Fatalf("subject %s: event %d after %d", r.ev.Subject, seq, prev)
		}
		last[r.ev.Subject] = seq
		if r.ev.Subject != fmt.Sprintf("conn-%03d", seq%subjects) {
			t.Fatalf("event %d under subject %s", seq, r.ev.Subject)
		}
	}
	checkEnvelope(t, all[0], "io.strait.connection.opened", "auditbuf")
}

// counter sums a metric's values; reason, when set, selects that label.
func counter(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := reason == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					match = true
				}
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// waitCounter polls a counter until it reaches want.
func waitCounter(t *testing.T, reg *prometheus.Registry, name, reason string, want float64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := counter(t, reg, name, reason)
		if got == want {
			return
		}
		if got > want || time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", name, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
