package fieldleveldatamasking

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/strait-gateway/strait/interceptor"
)

// newMasker builds the plugin from a config and returns its masker.
func newMasker(t testing.TB, config string) *masker {
	t.Helper()
	p, ok := interceptor.Lookup("io.conduktor.gateway.interceptor.FieldLevelDataMaskingPlugin")
	if !ok {
		t.Fatal("plugin not registered under its class name")
	}
	inst, err := p.New(json.RawMessage(config), interceptor.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*masking).m
}

// config is a masking config: email fully masked, card but its last 4
// characters, ssn's first 3 characters with #.
func config(registry string) string {
	sr := ""
	if registry != "" {
		sr = `"schemaRegistryConfig":{"host":"` + registry + `","cacheSize":2},`
	}
	return `{` + sr + `"policies":[
		{"name":"pii","fields":["email","contacts[*].email","friend.email"],"rule":{"type":"MASK_ALL"}},
		{"name":"card","fields":["payment.card","age"],"rule":{"type":"MASK_FIRST_N","numberOfChars":12}},
		{"name":"ssn","fields":["ids[0]"],"rule":{"type":"MASK_LAST_N","numberOfChars":3,"maskingChar":"#"}}]}`
}

func frame(id int, index []int, body []byte) []byte {
	var h sr.ConfluentHeader
	b, _ := h.AppendEncode(nil, id, index)
	return append(b, body...)
}

func TestJSON(t *testing.T) {
	m := newMasker(t, config(""))
	in := `{"email":"ann@example.com","name":"Ann <a&b>","age":42,"payment":{"card":"4111111111111111"},
		"contacts":[{"email":"bob@x.io"},{"phone":"1"},{"email":null}],"ids":["123456","999"]}`
	var o outcome
	out, err := m.mask(context.Background(), []byte(in), &o)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"age":42,"contacts":[{"email":"********"},{"phone":"1"},{"email":null}],"email":"***************",` +
		`"ids":["123###","999"],"name":"Ann <a&b>","payment":{"card":"************1111"}}`
	if string(out) != want {
		t.Errorf("masked\n%s\nwant\n%s", out, want)
	}
	if o.masked != 4 || o.skipped["age"] != "a number" {
		t.Errorf("outcome %+v", o)
	}
	// Nothing to mask: the bytes are kept as they are.
	same := []byte(`{"other": 1}`)
	if out, err := m.mask(context.Background(), same, &o); err != nil || &out[0] != &same[0] {
		t.Errorf("untouched value rewritten: %s, %v", out, err)
	}
	if _, err := m.mask(context.Background(), []byte("plain text"), &o); err == nil {
		t.Error("a value that is neither JSON nor framed was accepted")
	}
	if _, err := m.mask(context.Background(), frame(1, nil, []byte(`{}`)), &o); err == nil || !strings.Contains(err.Error(), "schemaRegistryConfig") {
		t.Errorf("framed value without a registry: %v", err)
	}
}

const avroSchema = `{"type":"record","name":"User","namespace":"t","fields":[
	{"name":"email","type":"string"},
	{"name":"age","type":"int"},
	{"name":"payment","type":["null",{"type":"record","name":"Payment","fields":[{"name":"card","type":"string"}]}]},
	{"name":"friend","type":["null",{"type":"record","name":"Friend","fields":[{"name":"email","type":["null","string"]}]}],"default":null},
	{"name":"contacts","type":{"type":"array","items":{"type":"record","name":"Contact","fields":[{"name":"email","type":"string"}]}}},
	{"name":"ids","type":{"type":"array","items":"string"}},
	{"name":"note","type":"string"}]}`

func TestAvro(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("users-value", 1, 7, sr.Schema{Schema: avroSchema, Type: sr.TypeAvro})
	m := newMasker(t, config(reg.URL()))
	s := avro.MustParse(avroSchema)
	user := map[string]any{
		"email": "ann@example.com", "age": 42,
		"payment":  map[string]any{"t.Payment": map[string]any{"card": "4111111111111111"}},
		"friend":   map[string]any{"t.Friend": map[string]any{"email": "bob@x.io"}},
		"contacts": []any{map[string]any{"email": "c@d.e"}},
		"ids":      []any{"123456"},
		"note":     "clear",
	}
	body, err := avro.Marshal(s, user)
	if err != nil {
		t.Fatal(err)
	}
	var o outcome
	out, err := m.mask(context.Background(), frame(7, nil, body), &o)
	if err != nil {
		t.Fatal(err)
	}
	if id, rest, _ := new(sr.ConfluentHeader).DecodeID(out); id != 7 || len(rest) == 0 {
		t.Fatalf("header lost: id %d", id)
	}
	var got map[string]any
	if err := avro.Unmarshal(s, out[5:], &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"email": "***************", "age": 42,
		"payment":  map[string]any{"t.Payment": map[string]any{"card": "************1111"}},
		"friend":   map[string]any{"t.Friend": map[string]any{"email": "********"}},
		"contacts": []any{map[string]any{"email": "*****"}},
		"ids":      []any{"123###"},
		"note":     "clear",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("masked %v\nwant %v", got, want)
	}
	if o.skipped["age"] != "a number" {
		t.Errorf("int field not reported: %+v", o)
	}
	if _, err := m.mask(context.Background(), frame(8, nil, body), &o); err == nil {
		t.Error("an unknown schema id was accepted")
	}
	if _, err := m.mask(context.Background(), frame(7, nil, body[:3]), &o); err == nil {
		t.Error("a truncated Avro body was accepted")
	}
}

const commonProto = `syntax = "proto3";
package common;
message Contact { string email = 1; string phone = 2; }`

const userProto = `syntax = "proto3";
package shop;
import "common.proto";
message Other { string x = 1; }
message Order {
  message User {
    string email = 1;
    int32 age = 2;
    Payment payment = 3;
    repeated common.Contact contacts = 4;
    repeated string ids = 5;
    string note = 6;
    map<string, string> attrs = 7;
  }
  string id = 1;
}
message Payment { string card = 1; }`

func TestProtobuf(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("common.proto", 1, 3, sr.Schema{Schema: commonProto, Type: sr.TypeProtobuf})
	reg.SeedSchema("orders-value", 1, 4, sr.Schema{Schema: userProto, Type: sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: "common.proto", Subject: "common.proto", Version: 1}}})
	m := newMasker(t, strings.Replace(config(reg.URL()), `"age"]`, `"age","attrs.token"]`, 1))

	files, err := (&protocompile.Compiler{Resolver: &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(
		map[string]string{"user.proto": userProto, "common.proto": commonProto})}}).Compile(context.Background(), "user.proto")
	if err != nil {
		t.Fatal(err)
	}
	md := files[0].Messages().ByName("Order").Messages().ByName("User")
	msg := dynamicpb.NewMessage(md)
	set := func(m protoreflect.Message, name string, v any) {
		m.Set(m.Descriptor().Fields().ByName(protoreflect.Name(name)), protoreflect.ValueOf(v))
	}
	set(msg, "email", "ann@example.com")
	set(msg, "age", int32(42))
	set(msg, "note", "clear")
	pay := msg.Mutable(md.Fields().ByName("payment")).Message()
	set(pay, "card", "4111111111111111")
	contact := msg.Mutable(md.Fields().ByName("contacts")).List().AppendMutable().Message()
	set(contact, "email", "c@d.e")
	msg.Mutable(md.Fields().ByName("ids")).List().Append(protoreflect.ValueOfString("123456"))
	attrs := msg.Mutable(md.Fields().ByName("attrs")).Map()
	attrs.Set(protoreflect.ValueOfString("token").MapKey(), protoreflect.ValueOfString("abcdefghijklmn"))
	attrs.Set(protoreflect.ValueOfString("lang").MapKey(), protoreflect.ValueOfString("en"))
	body, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}

	var o outcome
	value := frame(4, []int{1, 0}, body)
	out, err := m.mask(context.Background(), value, &o)
	if err != nil {
		t.Fatal(err)
	}
	head := len(value) - len(body)
	if string(out[:head]) != string(value[:head]) {
		t.Fatalf("header changed: %x, want %x", out[:head], value[:head])
	}
	got := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(out[head:], got); err != nil {
		t.Fatal(err)
	}
	get := func(m protoreflect.Message, name string) string {
		return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name))).String()
	}
	for name, want := range map[string]string{
		"email": "***************", "note": "clear", "age": "42",
		"payment.card":      "************1111",
		"contacts[0].email": "*****",
		"ids[0]":            "123###",
		"attrs.token":       "************mn",
		"attrs.lang":        "en",
	} {
		var v string
		switch name {
		case "payment.card":
			v = get(got.Get(md.Fields().ByName("payment")).Message(), "card")
		case "contacts[0].email":
			v = get(got.Get(md.Fields().ByName("contacts")).List().Get(0).Message(), "email")
		case "ids[0]":
			v = got.Get(md.Fields().ByName("ids")).List().Get(0).String()
		case "attrs.token", "attrs.lang":
			k := strings.TrimPrefix(name, "attrs.")
			v = got.Get(md.Fields().ByName("attrs")).Map().Get(protoreflect.ValueOfString(k).MapKey()).String()
		default:
			v = get(got, name)
		}
		if v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if o.skipped["age"] != "a protobuf int32" {
		t.Errorf("int32 field not reported: %+v", o)
	}
	if _, err := m.mask(context.Background(), frame(4, []int{5}, body), &o); err == nil {
		t.Error("a message index outside the schema was accepted")
	}
}

func TestJSONSchemaAndRegistryDown(t *testing.T) {
	reg := srfake.New()
	reg.SeedSchema("j-value", 1, 9, sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON})
	m := newMasker(t, config(reg.URL()))
	var o outcome
	out, err := m.mask(context.Background(), frame(9, nil, []byte(`{"email":"a@b.c"}`)), &o)
	if err != nil || string(out[5:]) != `{"email":"*****"}` || out[4] != 9 {
		t.Errorf("JSON schema value masked as %q, %v", out, err)
	}
	reg.Close()
	// The schema is cached; another id needs the registry, which is gone.
	if _, err := m.mask(context.Background(), frame(9, nil, []byte(`{"email":"a@b.c"}`)), &o); err != nil {
		t.Errorf("cached schema: %v", err)
	}
	if _, err := m.mask(context.Background(), frame(10, nil, []byte(`{"email":"a@b.c"}`)), &o); err == nil {
		t.Error("registry down: no error")
	}
}

// TestProtobufMalformedMapEntry: a map entry whose key comes once as a
// string and once as a varint makes protobuf-go's dynamic messages panic;
// the masker reports it as an error instead of bringing the gateway down.
func TestProtobufMalformedMapEntry(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	reg.SeedSchema("common.proto", 1, 3, sr.Schema{Schema: commonProto, Type: sr.TypeProtobuf})
	reg.SeedSchema("orders-value", 1, 4, sr.Schema{Schema: userProto, Type: sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: "common.proto", Subject: "common.proto", Version: 1}}})
	m := newMasker(t, config(reg.URL()))
	var o outcome
	_, err := m.mask(context.Background(), frame(4, []int{1, 0}, []byte{0x3a, 0x04, 0x0a, 0x00, 0x08, 0x00}), &o)
	if err == nil || !strings.Contains(err.Error(), "malformed protobuf") {
		t.Fatalf("err = %v, want a malformed protobuf error", err)
	}
}
