package protofield

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/strait-gateway/strait/fieldpath"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

const customerProto = `syntax = "proto3";
package test;
enum Tier { TIER_FREE = 0; TIER_PRO = 1; }
message Address { string street = 1; string city = 2; }
message Customer {
  string name = 1;
  bytes photo = 2;
  int32 age = 3;
  sint64 balance = 4;
  fixed32 pin = 5;
  double score = 6;
  bool active = 7;
  Tier tier = 8;
  Address home = 9;
  repeated string tags = 10;
  repeated Address addresses = 11;
  repeated int32 lucky = 12;
  map<string, string> attrs = 13;
  oneof contact { string email = 14; string phone = 15; }
  int64 id = 16;
  uint32 visits = 17;
  uint64 views = 18;
  sint32 delta = 19;
  sfixed32 sf32 = 20;
  sfixed64 sf64 = 21;
  fixed64 f64 = 22;
  float ratio = 23;
  map<int32, string> codes = 24;
  map<string, Address> places = 25;
  message Note { string text = 1; }
}
`

const legacyProto = `syntax = "proto2";
package test;
message Legacy {
  repeated int32 nums = 1;
  optional group Info = 2 { optional string secret = 3; optional int32 level = 4; }
  enum Kind { BIG = 5; SMALL = 6; }
  optional Kind kind = 5;
}
`

// compile compiles one .proto file.
func compile(t testing.TB, text string) protoreflect.FileDescriptor {
	t.Helper()
	c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"test.proto": text}),
	}}
	files, err := c.Compile(context.Background(), "test.proto")
	if err != nil {
		t.Fatal(err)
	}
	return files[0]
}

// marshal encodes the message md that the JSON text js describes.
func marshal(t testing.TB, md protoreflect.MessageDescriptor, js string) []byte {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatal(err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toJSON decodes body as md and returns it as compact JSON with every
// field shown by its .proto name.
func toJSON(t testing.TB, md protoreflect.MessageDescriptor, body []byte) string {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(body, m); err != nil {
		t.Fatalf("the output is not a %s: %v", md.FullName(), err)
	}
	js, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, js); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func mustPath(t testing.TB, s string) fieldpath.Path {
	t.Helper()
	p, err := fieldpath.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const sampleCustomer = `{"name":"Ada","photo":"AAEC","age":36,"balance":"-1234","pin":4321,"score":98.5,
 "active":true,"tier":"TIER_PRO","home":{"street":"1 Main","city":"London"},"tags":["a","b","c"],
 "addresses":[{"street":"s0","city":"c0"},{"street":"s1","city":"c1"}],"lucky":[7,13],
 "attrs":{"lang":"en","secret":"s3cr3t"},"email":"ada@example.com","id":"99","visits":3,"views":"4",
 "delta":-5,"sf32":-6,"sf64":"-7","f64":"8","ratio":0.5,"codes":{"5":"five"},
 "places":{"home":{"street":"hs","city":"hc"},"work":{"street":"ws","city":"wc"}}}`

func customer(t testing.TB) (protoreflect.MessageDescriptor, []byte) {
	md := compile(t, customerProto).Messages().ByName("Customer")
	return md, marshal(t, md, sampleCustomer)
}

func TestMessageAt(t *testing.T) {
	fd := compile(t, customerProto)
	for _, c := range []struct {
		index []int
		want  string // "" for an error
	}{
		{nil, "test.Address"},
		{[]int{0}, "test.Address"},
		{[]int{1}, "test.Customer"},
		{[]int{1, 0}, "test.Customer.AttrsEntry"}, // map entries count, in declaration order
		{[]int{1, 3}, "test.Customer.Note"},
		{[]int{2}, ""},
		{[]int{-1}, ""},
		{[]int{0, 0}, ""},
	} {
		md, err := MessageAt(fd, c.index)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%v: got %s, want an error", c.index, md.FullName())
		case c.want != "" && err != nil:
			t.Errorf("%v: %v", c.index, err)
		case c.want != "" && string(md.FullName()) != c.want:
			t.Errorf("%v: got %s, want %s", c.index, md.FullName(), c.want)
		}
	}
	if _, err := MessageAt(compile(t, `syntax = "proto3"; package test; enum E { E0 = 0; }`), nil); err == nil {
		t.Error("a schema without messages gave no error")
	}
}
