package protofield

import (
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// record returns the record of field name in the sample customer.
func record(t *testing.T, md protoreflect.MessageDescriptor, body []byte, path string) (protoreflect.FieldDescriptor, []byte) {
	t.Helper()
	var fd protoreflect.FieldDescriptor
	var raw []byte
	if _, err := Replace(body, md, mustPath(t, path), func(_ string, f protoreflect.FieldDescriptor, r []byte) ([]byte, error) {
		fd, raw = f, r
		return r, nil
	}); err != nil || raw == nil {
		t.Fatalf("%s: no record (%v)", path, err)
	}
	return fd, raw
}

func TestConceal(t *testing.T) {
	md, body := customer(t)
	for _, c := range []struct {
		field    string
		inHeader bool
		want     any // the field's value in the concealed record
	}{
		{"name", false, "ciphertext"},
		{"photo", false, []byte("ciphertext")},
		{"email", false, "ciphertext"},
		{"age", true, int32(math.MinInt32)},
		{"delta", true, int32(math.MinInt32)},
		{"sf32", true, int32(math.MinInt32)},
		{"id", true, int64(math.MinInt64)},
		{"balance", true, int64(math.MinInt64)},
		{"sf64", true, int64(math.MinInt64)},
		{"visits", true, uint32(0)},
		{"pin", true, uint32(0)},
		{"views", true, uint64(0)},
		{"f64", true, uint64(0)},
		{"ratio", true, float32(math.SmallestNonzeroFloat32)},
		{"score", true, math.SmallestNonzeroFloat64},
		{"active", true, false},
		{"tier", true, protoreflect.EnumNumber(0)},
	} {
		fd, raw := record(t, md, body, c.field)
		repl, inHeader, err := Conceal(fd, raw, "ciphertext")
		if err != nil {
			t.Fatalf("%s: %v", c.field, err)
		}
		if inHeader != c.inHeader {
			t.Errorf("%s: inHeader %v, want %v", c.field, inHeader, c.inHeader)
		}
		m := dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(repl, m); err != nil {
			t.Fatalf("%s: %x is not a field of %s: %v", c.field, repl, md.FullName(), err)
		}
		if num, _, n := protowire.ConsumeField(repl); num != fd.Number() || n != len(repl) {
			t.Errorf("%s: %x is not one record of field %d", c.field, repl, fd.Number())
		}
		got := m.Get(fd).Interface()
		if b, ok := got.([]byte); ok {
			got = string(b)
			if w, ok := c.want.([]byte); ok {
				c.want = string(w)
			}
		}
		if got != c.want {
			t.Errorf("%s: concealed value %v (%T), want %v (%T)", c.field, got, got, c.want, c.want)
		}
		text, ok := Text(fd, repl)
		if ok != !c.inHeader || ok && text != "ciphertext" {
			t.Errorf("%s: Text gives %q, %v", c.field, text, ok)
		}
	}
}

func TestConcealMessage(t *testing.T) {
	md, body := customer(t)
	fd, raw := record(t, md, body, "home")
	repl, inHeader, err := Conceal(fd, raw, "ct")
	if err != nil || !inHeader {
		t.Fatalf("inHeader %v, %v", inHeader, err)
	}
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(repl, m); err != nil || !m.Has(fd) {
		t.Fatalf("%x does not set %s: %v", repl, fd.Name(), err)
	}
	if proto.Size(m.Get(fd).Message().Interface()) != 0 {
		t.Errorf("%x: the message is not empty", repl)
	}
	// A record of another field, or not a record, is refused.
	if _, _, err := Conceal(fd, []byte{1<<3 | 2, 0}, "ct"); err == nil {
		t.Error("a record of another field was concealed")
	}
	if _, _, err := Conceal(fd, []byte{9<<3 | 2, 5}, "ct"); err == nil {
		t.Error("a truncated record was concealed")
	}
}

func TestConcealEnumFirstValue(t *testing.T) {
	md := compile(t, legacyProto).Messages().ByName("Legacy")
	fd := md.Fields().ByName("kind")
	repl, inHeader, err := Conceal(fd, []byte{5 << 3, 6}, "ct")
	if err != nil || !inHeader {
		t.Fatal(inHeader, err)
	}
	if want := []byte{5 << 3, 5}; string(repl) != string(want) {
		t.Errorf("got %x, want %x (BIG)", repl, want)
	}
}

func TestText(t *testing.T) {
	md, body := customer(t)
	name, raw := record(t, md, body, "name")
	age, ageRaw := record(t, md, body, "age")
	for _, c := range []struct {
		fd   protoreflect.FieldDescriptor
		raw  []byte
		want string
		ok   bool
	}{
		{name, raw, "Ada", true},
		{name, protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), ""), "", true},
		{name, raw[:len(raw)-1], "", false},
		{name, append(raw, 0), "", false},
		{name, ageRaw, "", false},
		{age, ageRaw, "", false},
	} {
		got, ok := Text(c.fd, c.raw)
		if got != c.want || ok != c.ok {
			t.Errorf("Text(%s, %x) = %q, %v; want %q, %v", c.fd.Name(), c.raw, got, ok, c.want, c.ok)
		}
	}
}

func TestScalar(t *testing.T) {
	md, body := customer(t)
	for _, c := range []struct {
		field, want string
	}{
		{"name", "Ada"}, {"age", "36"}, {"balance", "-1234"}, {"pin", "4321"}, {"score", "98.5"},
		{"active", "true"}, {"tier", "TIER_PRO"}, {"id", "99"}, {"visits", "3"}, {"views", "4"},
		{"delta", "-5"}, {"sf32", "-6"}, {"sf64", "-7"}, {"f64", "8"}, {"ratio", "0.5"},
	} {
		fd, raw := record(t, md, body, c.field)
		if got, err := Scalar(fd, raw); err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.field, got, err, c.want)
		}
	}
	fd, raw := record(t, md, body, "home")
	if _, err := Scalar(fd, raw); err == nil {
		t.Error("a message gave a scalar")
	}
	tier := md.Fields().ByName("tier")
	if got, err := Scalar(tier, []byte{8 << 3, 9}); err != nil || got != "9" {
		t.Errorf("unknown enum number: %q, %v", got, err)
	}
}
