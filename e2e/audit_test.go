package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/server"
)

// cloudEvent is an audit record's value as the README documents it, read
// independently of the audit package's own types.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time"`
	Subject         string          `json:"subject"`
	DataContentType string          `json:"datacontenttype"`
	PartitionKey    string          `json:"partitionkey"`
	Data            json.RawMessage `json:"data"`
}

// auditRecord is one record of an audit topic with its parsed event.
type auditRecord struct {
	rec *kgo.Record
	ev  cloudEvent
}

// wireConn and wirePrincipal are the connection and principal objects of
// event data.
type wireConn struct {
	ID            string `json:"id"`
	ClientAddress string `json:"clientAddress"`
	Listener      string `json:"listener"`
}

type wirePrincipal struct {
	VCluster  string `json:"vcluster"`
	Username  string `json:"username"`
	Mechanism string `json:"mechanism"`
}

// interceptorData is the data of interceptor and request.audited events.
type interceptorData struct {
	Connection  wireConn      `json:"connection"`
	Principal   wirePrincipal `json:"principal"`
	Interceptor string        `json:"interceptor"`
	Plugin      string        `json:"plugin"`
	APIKey      string        `json:"apiKey"`
	Topic       string        `json:"topic"`
	Partitions  []int32       `json:"partitions"`
	Reason      string        `json:"reason"`
}

// readAudit reads an audit topic from the start until want accepts the
// events read so far (30 s at most), then on to the topic's end offsets of
// that moment, and returns every record.
func readAudit(t *testing.T, bootstrap, topic string, want func([]auditRecord) bool) []auditRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all []auditRecord
	next := map[int32]int64{} // next offset to read, per partition
	var end map[int32]int64   // set once want is satisfied
	for {
		if end == nil && want(all) {
			offsets, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
			if err != nil {
				t.Fatalf("end offsets of %s: %v", topic, err)
			}
			end = map[int32]int64{}
			offsets.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
		}
		if end != nil && reached(next, end) {
			return all
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("audit topic %s: after 30 s and %d events the expected events are missing or unread", topic, len(all))
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			var ev cloudEvent
			if err := json.Unmarshal(r.Value, &ev); err != nil {
				t.Fatalf("audit record %d/%d is not a JSON event: %v: %s", r.Partition, r.Offset, err, r.Value)
			}
			all = append(all, auditRecord{rec: r, ev: ev})
			next[r.Partition] = r.Offset + 1
		})
	}
}

func reached(next, end map[int32]int64) bool {
	for p, o := range end {
		if next[p] < o {
			return false
		}
	}
	return true
}

// eventsOf returns the events of a type whose data, decoded into a T,
// match keep.
func eventsOf[T any](t *testing.T, all []auditRecord, typ string, keep func(T) bool) []auditRecord {
	t.Helper()
	var out []auditRecord
	for _, r := range all {
		if r.ev.Type != typ {
			continue
		}
		if keep(decodeData[T](t, r)) {
			out = append(out, r)
		}
	}
	return out
}

func decodeData[T any](t *testing.T, r auditRecord) T {
	t.Helper()
	var d T
	if err := json.Unmarshal(r.ev.Data, &d); err != nil {
		t.Fatalf("%s data %s: %v", r.ev.Type, r.ev.Data, err)
	}
	return d
}

// checkEnvelope checks the CloudEvents attributes and the record around
// them: a gateway cluster's source, the subject as the record key, the
// structured-mode content-type header.
func checkEnvelope(t *testing.T, r auditRecord, typ, cluster string) {
	t.Helper()
	ev := r.ev
	if ev.SpecVersion != "1.0" || ev.ID == "" || ev.Type != typ || ev.DataContentType != "application/json" ||
		!strings.HasPrefix(ev.Source, "strait://"+cluster+"/") || ev.Subject == "" ||
		ev.Subject != string(r.rec.Key) || ev.PartitionKey != ev.Subject {
		t.Fatalf("envelope of record %d/%d (key %q): %s", r.rec.Partition, r.rec.Offset, r.rec.Key, r.rec.Value)
	}
	at, err := time.Parse(time.RFC3339, ev.Time)
	if err != nil || at.Location() != time.UTC || time.Since(at) > 10*time.Minute || time.Until(at) > time.Minute {
		t.Fatalf("time %q of %s: not a recent RFC 3339 UTC time (%v)", ev.Time, ev.Type, err)
	}
	var ct string
	for _, h := range r.rec.Headers {
		if h.Key == "content-type" {
			ct = string(h.Value)
		}
	}
	if !strings.HasPrefix(ct, "application/cloudevents+json") {
		t.Fatalf("content-type header %q, want application/cloudevents+json", ct)
	}
}

// singleAudit is the audit topic of the single gateway (default cluster
// id), on its backing cluster.
func singleAudit() string { return gatewayConfig().AuditTopic() }

// TestAuditBlockedCreateTopics: a topic creation a CreateTopicPolicy
// refuses is recorded as interceptor.blocked, keyed like the opening of the
// client's connection and after it.
func TestAuditBlockedCreateTopics(t *testing.T) {
	requireReal(t)
	suffix := time.Now().UnixNano() % 1e9
	topic := fmt.Sprintf("audit-blocked-%d", suffix)
	name := fmt.Sprintf("audit-partitions-%d", suffix)
	policy(t, name, "CreateTopicPolicy", `{"topic":"audit-blocked-.*","numPartition":{"min":1,"max":3,"action":"BLOCK"}}`)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := gatewayAdmin(t).CreateTopic(ctx, 10, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if !errors.Is(err, kerr.PolicyViolation) {
		t.Fatalf("10 partitions: err %v, want POLICY_VIOLATION", err)
	}

	isOurs := func(d interceptorData) bool { return d.Topic == topic && d.Interceptor == name }
	all := readAudit(t, single.direct, singleAudit(), func(all []auditRecord) bool {
		return len(eventsOf(t, all, "io.strait.interceptor.blocked", isOurs)) > 0
	})
	blocked := eventsOf(t, all, "io.strait.interceptor.blocked", isOurs)
	if len(blocked) != 1 {
		t.Fatalf("%d blocked events for %s, want 1", len(blocked), topic)
	}
	b := blocked[0]
	checkEnvelope(t, b, "io.strait.interceptor.blocked", "gateway")
	d := decodeData[interceptorData](t, b)
	if d.Plugin != "CreateTopicPolicy" || d.APIKey != "CreateTopics" || d.Principal.VCluster != "passthrough" ||
		!strings.Contains(d.Reason, "10") || d.Connection.ID == "" || d.Connection.ID != b.ev.Subject || d.Connection.ClientAddress == "" {
		t.Fatalf("blocked event data: %s", b.ev.Data)
	}
	opened := eventsOf(t, all, "io.strait.connection.opened", func(c struct{ Connection wireConn }) bool {
		return c.Connection.ID == d.Connection.ID
	})
	if len(opened) != 1 {
		t.Fatalf("%d opened events for connection %s, want 1", len(opened), d.Connection.ID)
	}
	o := opened[0]
	checkEnvelope(t, o, "io.strait.connection.opened", "gateway")
	if o.rec.Partition != b.rec.Partition || o.rec.Offset >= b.rec.Offset {
		t.Fatalf("opened at %d/%d, blocked at %d/%d: want one partition, opened first",
			o.rec.Partition, o.rec.Offset, b.rec.Partition, b.rec.Offset)
	}
	t.Logf("blocked: %s", b.rec.Value)
}

// TestAuditPluginRecordsProduce: an AuditPlugin limited to partition 0
// records a real client's produces to partition 0 and not those to
// partition 1.
func TestAuditPluginRecordsProduce(t *testing.T) {
	requireReal(t)
	topic := newTopic(t, single, "auditplug", 2)
	name := fmt.Sprintf("audit-produce-%d", time.Now().UnixNano()%1e9)
	policy(t, name, "AuditPlugin", `{"apiKeys":["PRODUCE"],"topic":"`+topic+`","topicPartitions":[0]}`)

	cl, err := kgo.NewClient(kgo.SeedBrokers(single.gatewayAddr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One connection produces 1, 0, 1, 0: its events share a partition of
	// the audit topic, so once the second partition-0 event is read, any
	// partition-1 event would have been read before it.
	for i, p := range []int32{1, 0, 1, 0} {
		r := &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "v%d", i)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce to partition %d: %v", p, err)
		}
	}
	isOurs := func(d interceptorData) bool { return d.Topic == topic }
	all := readAudit(t, single.direct, singleAudit(), func(all []auditRecord) bool {
		return len(eventsOf(t, all, "io.strait.request.audited", isOurs)) >= 2
	})
	audited := eventsOf(t, all, "io.strait.request.audited", isOurs)
	if len(audited) != 2 {
		t.Fatalf("%d audited events for %s, want 2 (the produces to partition 0)", len(audited), topic)
	}
	for _, a := range audited {
		checkEnvelope(t, a, "io.strait.request.audited", "gateway")
		d := decodeData[interceptorData](t, a)
		if !slices.Equal(d.Partitions, []int32{0}) || d.APIKey != "Produce" || d.Plugin != "AuditPlugin" || d.Interceptor != name ||
			d.Principal.VCluster != "passthrough" || d.Connection.ID != a.ev.Subject {
			t.Fatalf("audited event data: %s", a.ev.Data)
		}
	}
	if audited[0].ev.Subject != audited[1].ev.Subject {
		t.Fatalf("one client's produces came from two connections (%s, %s); the ordering argument fails", audited[0].ev.Subject, audited[1].ev.Subject)
	}
}

// maskingWithSecret is an Interceptor whose config holds a registry
// password (%s): name, secret.
const auditMaskingWithSecret = `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":%q},"spec":{"pluginClass":"FieldLevelDataMasking","priority":1,"config":{
"topic":"audit-mask-never-.*",
"schemaRegistryConfig":{"host":"http://127.0.0.1:1","cacheSize":%d,"additionalConfigs":{"basic.auth.credentials.source":"USER_INFO","basic.auth.user.info":"reg:%s"}},
"policies":[{"name":"p","fields":["email"],"rule":{"type":"MASK_ALL"}}]}}}`

// adminData is the data of admin.changed.
type adminData struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	Caller   string `json:"caller"`
	Result   string `json:"result"`
	Resource struct {
		Kind, Name, Key string
	} `json:"resource"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// configData is the data of config.applied and config.rejected.
type configData struct {
	Topic     string          `json:"topic"`
	Offset    int64           `json:"offset"`
	Key       string          `json:"key"`
	Operation string          `json:"operation"`
	Value     json.RawMessage `json:"value"`
	Reason    string          `json:"reason"`
}

// TestAuditAdminChangeRedacted: creating, updating and deleting an
// interceptor whose config holds a password through the admin API gives
// admin.changed events with the password redacted, and the password is
// nowhere in the audit topic, config events included.
func TestAuditAdminChangeRedacted(t *testing.T) {
	requireReal(t)
	suffix := time.Now().UnixNano()
	name := fmt.Sprintf("audit-mask-%d", suffix%1e9)
	secret := fmt.Sprintf("hunter2-%d", suffix)
	for i, result := range []string{"CREATED", "UPDATED"} {
		code, body := adminCall(t, single.gateway, "PUT", "/gateway/v2/interceptor", fmt.Sprintf(auditMaskingWithSecret, name, 10+i, secret))
		if code != http.StatusOK || !strings.Contains(body, result) {
			t.Fatalf("PUT %d: %d %s, want %s", i, code, body, result)
		}
	}
	if code, body := adminCall(t, single.gateway, "DELETE", "/gateway/v2/interceptor/"+name, ""); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", code, body)
	}

	isOurs := func(d adminData) bool { return d.Resource.Kind == "Interceptor" && d.Resource.Name == name }
	var key string
	all := readAudit(t, single.direct, singleAudit(), func(all []auditRecord) bool {
		changes := eventsOf(t, all, "io.strait.admin.changed", isOurs)
		if len(changes) == 0 {
			return false
		}
		key = decodeData[adminData](t, changes[0]).Resource.Key
		applied := eventsOf(t, all, "io.strait.config.applied", func(d configData) bool { return d.Key == key })
		return len(changes) >= 3 && len(applied) >= 3
	})
	changes := eventsOf(t, all, "io.strait.admin.changed", isOurs)
	want := []struct {
		result        string
		before, after bool
	}{{"CREATED", false, true}, {"UPDATED", true, true}, {"DELETED", true, false}}
	if len(changes) != len(want) {
		t.Fatalf("%d admin.changed events for %s, want %d", len(changes), name, len(want))
	}
	for i, w := range want {
		c := changes[i]
		checkEnvelope(t, c, "io.strait.admin.changed", "gateway")
		d := decodeData[adminData](t, c)
		if d.Result != w.result || d.Caller != "e2e-admin" || d.Resource.Key == "" || d.Resource.Key != c.ev.Subject ||
			(d.Before != nil) != w.before || (d.After != nil) != w.after {
			t.Fatalf("change %d: %s", i, c.ev.Data)
		}
		wantMethod, wantPath := "PUT", "/gateway/v2/interceptor"
		if w.result == "DELETED" {
			wantMethod, wantPath = "DELETE", "/gateway/v2/interceptor/"+name
		}
		if d.Method != wantMethod || d.Path != wantPath {
			t.Fatalf("change %d: method %s path %s, want %s %s", i, d.Method, d.Path, wantMethod, wantPath)
		}
		for _, doc := range []json.RawMessage{d.Before, d.After} {
			if doc != nil && !strings.Contains(string(doc), `"basic.auth.user.info":"[REDACTED]"`) {
				t.Fatalf("change %d: document without the redacted secret: %s", i, doc)
			}
		}
	}
	if b, a := decodeData[adminData](t, changes[1]).Before, decodeData[adminData](t, changes[1]).After; !strings.Contains(string(b), `"cacheSize":10`) ||
		!strings.Contains(string(a), `"cacheSize":11`) {
		t.Fatalf("update: before %s, after %s: want the old and the new document", b, a)
	}
	applied := eventsOf(t, all, "io.strait.config.applied", func(d configData) bool { return d.Key == key })
	for _, a := range applied {
		checkEnvelope(t, a, "io.strait.config.applied", "gateway")
		if d := decodeData[configData](t, a); d.Operation == "upsert" && !strings.Contains(string(d.Value), `"basic.auth.user.info":"[REDACTED]"`) {
			t.Fatalf("config.applied value without the redacted secret: %s", d.Value)
		}
	}
	for _, r := range all {
		for _, b := range append([][]byte{r.rec.Key, r.rec.Value}, headerValues(r.rec)...) {
			if strings.Contains(string(b), secret) {
				t.Fatalf("the secret is in audit record %d/%d: %s", r.rec.Partition, r.rec.Offset, b)
			}
		}
	}
	t.Logf("%d audit records scanned, secret in none", len(all))
}

func headerValues(r *kgo.Record) [][]byte {
	var out [][]byte
	for _, h := range r.Headers {
		out = append(out, []byte(h.Key), h.Value)
	}
	return out
}

// auditSASLNode starts a gateway node with SASL_PLAINTEXT clients on the
// single real Kafka cluster, under a cluster id of its own, and returns it
// with that id.
func auditSASLNode(t *testing.T) (*server.Server, string) {
	t.Helper()
	cluster := fmt.Sprintf("auditsasl%d", time.Now().UnixNano()%1e9)
	return saslCluster(t, cluster, 1)[0], cluster
}

// authData is the data of auth.succeeded and auth.failed.
type authData struct {
	Connection wireConn       `json:"connection"`
	Mechanism  string         `json:"mechanism"`
	Principal  *wirePrincipal `json:"principal"`
	Reason     string         `json:"reason"`
}

// TestAuditFailedSASL: a real client logging in with a wrong password
// gives auth.failed naming the mechanism and the claimed user, never the
// password; a good login gives auth.succeeded with the principal.
func TestAuditFailedSASL(t *testing.T) {
	requireReal(t)
	node, cluster := auditSASLNode(t)
	suffix := time.Now().UnixNano() % 1e9
	vc, user := fmt.Sprintf("auditvc%d", suffix), fmt.Sprintf("auditor%d", suffix)
	tenant(t, node, vc, user)
	tok, _ := token(t, node, vc, user, time.Hour)
	wrong := fmt.Sprintf("wrong-password-%d", time.Now().UnixNano())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := plainClient(t, node.KafkaAddr(), user, wrong).Ping(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong password: err %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	if err := plainClient(t, node.KafkaAddr(), user, tok).Ping(ctx); err != nil {
		t.Fatalf("good token: %v", err)
	}

	claimed := func(d authData) bool { return d.Principal != nil && d.Principal.Username == user }
	topic := "_strait_" + cluster + "_audit"
	all := readAudit(t, single.direct, topic, func(all []auditRecord) bool {
		return len(eventsOf(t, all, "io.strait.auth.failed", claimed)) > 0 && len(eventsOf(t, all, "io.strait.auth.succeeded", claimed)) > 0
	})
	failed := eventsOf(t, all, "io.strait.auth.failed", claimed)
	f := failed[0]
	checkEnvelope(t, f, "io.strait.auth.failed", cluster)
	if d := decodeData[authData](t, f); d.Mechanism != "PLAIN" || d.Reason == "" || d.Connection.ID != f.ev.Subject || d.Connection.ClientAddress == "" {
		t.Fatalf("auth.failed data: %s", f.ev.Data)
	}
	succeeded := eventsOf(t, all, "io.strait.auth.succeeded", claimed)
	s := succeeded[0]
	checkEnvelope(t, s, "io.strait.auth.succeeded", cluster)
	if d := decodeData[authData](t, s); d.Mechanism != "PLAIN" || d.Principal.VCluster != vc || d.Connection.ID != s.ev.Subject {
		t.Fatalf("auth.succeeded data: %s", s.ev.Data)
	}
	for _, r := range all {
		for _, b := range append([][]byte{r.rec.Key, r.rec.Value}, headerValues(r.rec)...) {
			if strings.Contains(string(b), wrong) || strings.Contains(string(b), tok) {
				t.Fatalf("a password is in audit record %d/%d: %s", r.rec.Partition, r.rec.Offset, b)
			}
		}
	}
	t.Logf("failed: %s", f.rec.Value)
}

// TestAuditHandProducedConfigRejected: records produced by hand to the
// config topic are reported as config.rejected (invalid, with the reason)
// or config.applied, at their offsets.
func TestAuditHandProducedConfigRejected(t *testing.T) {
	requireReal(t)
	configTopic := gatewayConfig().ConfigTopic()
	name := fmt.Sprintf("audit-by-hand-%d", time.Now().UnixNano()%1e9)
	key, err := resource.IdentityKey("Interceptor", json.RawMessage(`{"name":"`+name+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	cl := backingClient(t)
	produce := func(value string) int64 {
		t.Helper()
		r := &kgo.Record{Topic: configTopic, Key: key}
		if value != "" {
			r.Value = []byte(value)
		}
		res, err := cl.ProduceSync(context.Background(), r).First()
		if err != nil {
			t.Fatalf("produce to %s: %v", configTopic, err)
		}
		return res.Offset
	}
	t.Cleanup(func() { produce("") })
	doc := `{"apiVersion":"gateway/v2","kind":"Interceptor","metadata":{"name":"` + name + `"},"spec":{"pluginClass":"%s","priority":100,"config":{"topic":"audit-never-.*","numPartition":{"min":1,"max":3}}}}`
	badClass := fmt.Sprintf("NoSuchPlugin%d", time.Now().UnixNano()%1e6)
	bad := produce(fmt.Sprintf(doc, badClass))
	good := produce(fmt.Sprintf(doc, "CreateTopicPolicy"))
	gone := produce("")

	ofKey := func(d configData) bool { return d.Key == string(key) }
	all := readAudit(t, single.direct, singleAudit(), func(all []auditRecord) bool {
		return len(eventsOf(t, all, "io.strait.config.rejected", ofKey)) > 0 && len(eventsOf(t, all, "io.strait.config.applied", ofKey)) >= 2
	})
	rejected := eventsOf(t, all, "io.strait.config.rejected", ofKey)
	if len(rejected) != 1 {
		t.Fatalf("%d rejections, want 1", len(rejected))
	}
	r := rejected[0]
	checkEnvelope(t, r, "io.strait.config.rejected", "gateway")
	d := decodeData[configData](t, r)
	if d.Topic != configTopic || d.Offset != bad || d.Operation != "upsert" || r.ev.Subject != string(key) ||
		!strings.Contains(d.Reason, badClass) || !strings.Contains(string(d.Value), badClass) {
		t.Fatalf("config.rejected at offset %d: %s", bad, r.ev.Data)
	}
	applied := eventsOf(t, all, "io.strait.config.applied", ofKey)
	if len(applied) != 2 {
		t.Fatalf("%d config.applied events, want 2 (upsert, delete)", len(applied))
	}
	for i, w := range []struct {
		offset int64
		op     string
	}{{good, "upsert"}, {gone, "delete"}} {
		checkEnvelope(t, applied[i], "io.strait.config.applied", "gateway")
		d := decodeData[configData](t, applied[i])
		if d.Topic != configTopic || d.Offset != w.offset || d.Operation != w.op || d.Reason != "" || (d.Value != nil) != (w.op == "upsert") {
			t.Fatalf("config.applied %d, want offset %d %s: %s", i, w.offset, w.op, applied[i].ev.Data)
		}
	}
	t.Logf("rejected: %s", d.Reason)
}
