package fieldleveldatamasking

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/interceptor/interceptortest"
	"github.com/strait-gateway/strait/records"
)

// batch encodes values as one uncompressed record batch.
func batch(values ...string) []byte {
	var body []byte
	for i, v := range values {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte(v)}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		body = r.AppendTo(body)
	}
	b := kmsg.RecordBatch{Magic: 2, NumRecords: int32(len(values)), LastOffsetDelta: int32(len(values) - 1),
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, Records: body}
	b.Length = int32(49 + len(body))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// values reads the record values of a partition.
func values(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	err := records.Read(data, func(b *records.Batch) error {
		for _, r := range b.Records {
			out = append(out, string(r.Value))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fetchResponse has topic "pii" (partition 0 good JSON, partition 1 a
// bad value) and topic "logs".
func fetchResponse() *kmsg.FetchResponse {
	r := kmsg.NewPtrFetchResponse()
	for _, topic := range []struct {
		name  string
		parts []string
	}{{"pii", []string{`{"email":"ann@x.io"}`, "not json"}}, {"logs", []string{`{"email":"log@x.io"}`}}} {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = topic.name
		for i, v := range topic.parts {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition = int32(i)
			p.RecordBatches = batch(`{"id":1}`, v)
			rt.Partitions = append(rt.Partitions, p)
		}
		r.Topics = append(r.Topics, rt)
	}
	return r
}

// ids resolves topic ids as the gateway's metadata cache does.
type ids map[[16]byte]string

func (m ids) TopicName(id [16]byte) (string, bool) { n, ok := m[id]; return n, ok }

func run(t *testing.T, config string, resp *kmsg.FetchResponse) []interceptor.Event {
	t.Helper()
	p, _ := interceptor.Lookup("FieldLevelDataMasking")
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &interceptortest.Events{}
	ch := interceptor.NewChain(1, []interceptor.Step{{Name: "mask", Plugin: p.Name, Priority: 1, Interceptor: inst}}, ev, interceptor.Node{})
	conn := &interceptor.Conn{VCluster: "passthrough", Topics: ids{{7}: "pii"}}
	call := ch.Begin(conn, kmsg.Fetch.Int16(), resp.Version, nil, time.Now())
	if !call.HasResponse() {
		t.Fatal("fetch responses not subscribed")
	}
	call.Response(resp)
	return ev.List()
}

func TestFetchFailFetch(t *testing.T) {
	resp := fetchResponse()
	ev := run(t, `{"topic":"pii","policies":[{"name":"p","fields":["email","id"],"rule":{"type":"MASK_ALL"}}]}`, resp)
	pii, logs := resp.Topics[0], resp.Topics[1]
	if got := values(t, pii.Partitions[0].RecordBatches); strings.Join(got, "|") != `{"id":1}|{"email":"********"}` {
		t.Errorf("pii/0 = %q", got)
	}
	if p := pii.Partitions[1]; p.ErrorCode != kerr.PolicyViolation.Code || p.RecordBatches != nil {
		t.Errorf("pii/1 not failed: code %d, %d bytes", p.ErrorCode, len(p.RecordBatches))
	}
	if got := values(t, logs.Partitions[0].RecordBatches); got[1] != `{"email":"log@x.io"}` {
		t.Errorf("a topic outside the pattern was masked: %q", got)
	}
	var kinds []string
	for _, e := range ev {
		kinds = append(kinds, string(e.Action)+":"+e.Topic+":"+e.Reason)
	}
	want := []string{"BLOCK:pii:partition 1 refused", "INFO:pii:field id holds a number"}
	if len(kinds) != len(want) {
		t.Fatalf("events %q, want %q", kinds, want)
	}
	for i := range want {
		if !strings.HasPrefix(kinds[i], want[i]) {
			t.Errorf("event %q, want %q…", kinds[i], want[i])
		}
	}
}

func TestFetchTopicByID(t *testing.T) {
	resp := fetchResponse()
	resp.Version = 13
	resp.Topics[0].Topic, resp.Topics[0].TopicID = "", [16]byte{7}
	run(t, `{"topic":"pii","policies":[{"name":"p","fields":["email"],"rule":{"type":"MASK_LAST_N","numberOfChars":5}}]}`, resp)
	if got := values(t, resp.Topics[0].Partitions[0].RecordBatches); got[1] != `{"email":"ann*****"}` {
		t.Errorf("topic named by id: %q", got)
	}
}

func TestFetchSkipMasking(t *testing.T) {
	resp := fetchResponse()
	ev := run(t, `{"errorPolicy":"skip_masking","policies":[{"name":"p","fields":["email"],"rule":{"type":"MASK_FIRST_N","numberOfChars":3}}]}`, resp)
	if got := values(t, resp.Topics[0].Partitions[1].RecordBatches); resp.Topics[0].Partitions[1].ErrorCode != 0 || got[1] != "not json" {
		t.Errorf("pii/1 with skip_masking: %q", got)
	}
	if got := values(t, resp.Topics[1].Partitions[0].RecordBatches); got[1] != `{"email":"***@x.io"}` {
		t.Errorf("logs/0 = %q", got)
	}
	if len(ev) != 1 || ev[0].Action != interceptor.Info || !strings.Contains(ev[0].Reason, "not masked") {
		t.Errorf("events %+v", ev)
	}
}

func TestConfigErrors(t *testing.T) {
	p, _ := interceptor.Lookup("FieldLevelDataMasking")
	pol := `"policies":[{"name":"p","fields":["a"],"rule":{"type":"MASK_ALL"}}]`
	for config, field := range map[string]string{
		`{}`: "policies",
		`{"policies":[{"name":"p","fields":["a..b"],"rule":{"type":"MASK_ALL"}}]}`:                                                                              "policies[0].fields[0]",
		`{"policies":[{"name":"p","fields":[],"rule":{"type":"MASK_ALL"}}]}`:                                                                                    "policies[0].fields",
		`{"policies":[{"name":"p","fields":["a"],"rule":{"type":"HASH"}}]}`:                                                                                     "policies[0].rule.type",
		`{"policies":[{"name":"p","fields":["a"],"rule":{"type":"MASK_FIRST_N"}}]}`:                                                                             "policies[0].rule.numberOfChars",
		`{"policies":[{"name":"p","fields":["a"],"rule":{"type":"MASK_LAST_N","numberOfChars":0}}]}`:                                                            "policies[0].rule.numberOfChars",
		`{"policies":[{"name":"p","fields":["a"],"rule":{"type":"MASK_ALL","maskingChar":"**"}}]}`:                                                              "policies[0].rule.maskingChar",
		`{"policies":[{"name":"p","fields":["a"],"rule":{"type":"MASK_ALL","maskingChar":""}}]}`:                                                                "policies[0].rule.maskingChar",
		`{"errorPolicy":"ignore",` + pol + `}`:                                                                                                                  "errorPolicy",
		`{"schemaRegistryConfig":{"type":"AWS","host":"http://r:8081"},` + pol + `}`:                                                                            "schemaRegistryConfig.type",
		`{"schemaRegistryConfig":{"host":"r:8081"},` + pol + `}`:                                                                                                "schemaRegistryConfig.host",
		`{"schemaRegistryConfig":{"host":"ftp://r"},` + pol + `}`:                                                                                               "schemaRegistryConfig.host",
		`{"schemaRegistryConfig":{"host":"http://r","cacheSize":0},` + pol + `}`:                                                                                "schemaRegistryConfig.cacheSize",
		`{"schemaRegistryConfig":{"host":"http://r","region":"eu"},` + pol + `}`:                                                                                "schemaRegistryConfig.region",
		`{"schemaRegistryConfig":{"host":"http://r","additionalConfigs":{"ssl.x":"1"}},` + pol + `}`:                                                            "schemaRegistryConfig.additionalConfigs.ssl.x",
		`{"schemaRegistryConfig":{"host":"http://r","additionalConfigs":{"basic.auth.user.info":"u"}},` + pol + `}`:                                             "schemaRegistryConfig.additionalConfigs.basic.auth.credentials.source",
		`{"schemaRegistryConfig":{"host":"http://r","additionalConfigs":{"basic.auth.credentials.source":"USER_INFO","basic.auth.user.info":"u"}},` + pol + `}`: "schemaRegistryConfig.additionalConfigs.basic.auth.user.info",
	} {
		_, err := p.New(json.RawMessage(config), interceptor.Env{})
		ce, ok := err.(*interceptor.ConfigError)
		if !ok || ce.Field != field {
			t.Errorf("%s: error %v, want one naming %s", config, err, field)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	reg := srfake.New(srfake.WithAuth("Basic dTpwQHNz")) // u:p@ss
	defer reg.Close()
	reg.SeedSchema("s", 1, 1, sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON})
	cfg := `{"schemaRegistryConfig":{"host":"` + reg.URL() + `","additionalConfigs":{"basic.auth.credentials.source":"USER_INFO","basic.auth.user.info":"%s"}},
		"policies":[{"name":"p","fields":["a"],"rule":{"type":"MASK_ALL"}}]}`
	var o outcome
	if _, err := newMasker(t, strings.Replace(cfg, "%s", "u:p@ss", 1)).mask(t.Context(), frame(1, nil, []byte(`{"a":"x"}`)), &o); err != nil {
		t.Errorf("right credentials: %v", err)
	}
	if _, err := newMasker(t, strings.Replace(cfg, "%s", "u:wrong", 1)).mask(t.Context(), frame(1, nil, []byte(`{"a":"x"}`)), &o); err == nil {
		t.Error("wrong credentials accepted")
	}
}

// BenchmarkAvro masks 1 KB Avro records: two masked fields among ten.
func BenchmarkAvro(b *testing.B) {
	reg := srfake.New()
	defer reg.Close()
	fields := `{"name":"email","type":"string"},{"name":"card","type":"string"}`
	rec := map[string]any{"email": "someone@example.com", "card": "4111111111111111"}
	for i := range 8 {
		name := "f" + string(rune('a'+i))
		fields += `,{"name":"` + name + `","type":"string"}`
		rec[name] = strings.Repeat("x", 120)
	}
	schema := `{"type":"record","name":"R","fields":[` + fields + `]}`
	reg.SeedSchema("r", 1, 1, sr.Schema{Schema: schema, Type: sr.TypeAvro})
	body, err := avro.Marshal(avro.MustParse(schema), rec)
	if err != nil {
		b.Fatal(err)
	}
	value := frame(1, nil, body)
	m := newMasker(b, `{"schemaRegistryConfig":{"host":"`+reg.URL()+`"},"policies":[{"name":"p","fields":["email","card"],"rule":{"type":"MASK_ALL"}}]}`)
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		var o outcome
		if _, err := m.mask(b.Context(), value, &o); err != nil || o.masked != 2 {
			b.Fatal(err, o.masked)
		}
	}
}
