package protofield

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// identity is a replacement that keeps every record.
func identity(_ string, _ protoreflect.FieldDescriptor, raw []byte) ([]byte, error) { return raw, nil }

func TestReplace(t *testing.T) {
	md, body := customer(t)
	for _, c := range []struct {
		path     string
		at       []string // concrete paths fn is called with
		inHeader bool
		want     []string // in the concealed message as compact JSON
	}{
		{"name", []string{"name"}, false, []string{`"name":"X"`}},
		{"photo", []string{"photo"}, false, []string{`"photo":"WA=="`}},
		{"age", []string{"age"}, true, []string{`"age":-2147483648`}},
		{"balance", []string{"balance"}, true, []string{`"balance":"-9223372036854775808"`}},
		{"pin", []string{"pin"}, true, []string{`"pin":0`}},
		{"score", []string{"score"}, true, []string{`"score":5e-324`}},
		{"active", []string{"active"}, true, []string{`"active":false`}},
		{"tier", []string{"tier"}, true, []string{`"tier":"TIER_FREE"`}},
		{"id", []string{"id"}, true, []string{`"id":"-9223372036854775808"`}},
		{"visits", []string{"visits"}, true, []string{`"visits":0`}},
		{"views", []string{"views"}, true, []string{`"views":"0"`}},
		{"delta", []string{"delta"}, true, []string{`"delta":-2147483648`}},
		{"sf32", []string{"sf32"}, true, []string{`"sf32":-2147483648`}},
		{"sf64", []string{"sf64"}, true, []string{`"sf64":"-9223372036854775808"`}},
		{"f64", []string{"f64"}, true, []string{`"f64":"0"`}},
		{"ratio", []string{"ratio"}, true, []string{`"ratio":1e-45`}},
		{"home", []string{"home"}, true, []string{`"home":{"street":"","city":""}`}},
		{"home.city", []string{"home.city"}, false, []string{`"home":{"street":"1 Main","city":"X"}`}},
		{"tags[*]", []string{"tags[0]", "tags[1]", "tags[2]"}, false, []string{`"tags":["X","X","X"]`}},
		{"tags[1]", []string{"tags[1]"}, false, []string{`"tags":["a","X","c"]`}},
		{"tags[3]", nil, false, nil},
		{"addresses[*].street", []string{"addresses[0].street", "addresses[1].street"}, false,
			[]string{`"addresses":[{"street":"X","city":"c0"},{"street":"X","city":"c1"}]`}},
		{"addresses[1]", []string{"addresses[1]"}, true, []string{`"addresses":[{"street":"s0","city":"c0"},{"street":"","city":""}]`}},
		{"attrs.secret", []string{"attrs.secret"}, false, []string{`"attrs":{"lang":"en","secret":"X"}`}},
		{"attrs.nothere", nil, false, nil},
		{"places.work.city", []string{"places.work.city"}, false, []string{`"work":{"street":"ws","city":"X"}`, `"home":{"street":"hs","city":"hc"}`}},
		{"places.home", []string{"places.home"}, true, []string{`"home":{"street":"","city":""}`}},
		{"email", []string{"email"}, false, []string{`"email":"X"`}},
		{"phone", nil, false, nil}, // the other member of the oneof is not set
		{"nothere", nil, false, nil},
		{"name.first", nil, false, nil}, // a string has no fields
		{"home[0]", nil, false, nil},    // a message is not repeated
	} {
		t.Run(c.path, func(t *testing.T) {
			orig := bytes.Clone(body)
			p := mustPath(t, c.path)
			out, err := Replace(body, md, p, identity)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, body) {
				t.Fatalf("identity replacement changed %x into %x", body, out)
			}
			var ats []string
			var raws [][]byte
			out, err = Replace(body, md, p, func(at string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
				if num, _, n := protowire.ConsumeField(raw); n != len(raw) || num != fd.Number() {
					t.Errorf("%s: %x is not one record of field %d", at, raw, fd.Number())
				}
				ats, raws = append(ats, at), append(raws, bytes.Clone(raw))
				repl, inHeader, err := Conceal(fd, raw, "X")
				if inHeader != c.inHeader {
					t.Errorf("%s: inHeader %v, want %v", at, inHeader, c.inHeader)
				}
				return repl, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ats, c.at) {
				t.Fatalf("called at %q, want %q", ats, c.at)
			}
			if !bytes.Equal(body, orig) {
				t.Fatal("body modified")
			}
			if len(c.at) == 0 {
				if &out[0] != &body[0] {
					t.Fatal("fn never called but body not returned itself")
				}
				return
			}
			js := toJSON(t, md, out)
			for _, w := range c.want {
				if !strings.Contains(js, w) {
					t.Errorf("concealed message %s lacks %s", js, w)
				}
			}
			i := 0
			back, err := Replace(out, md, p, func(at string, _ protoreflect.FieldDescriptor, _ []byte) ([]byte, error) {
				if at != c.at[i] {
					t.Errorf("restoring: called at %s, want %s", at, c.at[i])
				}
				i++
				return raws[i-1], nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, body) {
				t.Fatalf("restored %x, want %x", back, body)
			}
		})
	}
}

func TestReplaceRecords(t *testing.T) {
	md, body := customer(t)
	for _, c := range []struct {
		path string
		raw  []byte // the record fn gets
	}{
		{"age", []byte{3 << 3, 36}},
		{"name", []byte{1<<3 | 2, 3, 'A', 'd', 'a'}},
		{"home.city", append([]byte{2<<3 | 2, 6}, "London"...)},
		{"tags[2]", []byte{10<<3 | 2, 1, 'c'}},
		{"pin", []byte{5<<3 | 5, 0xe1, 0x10, 0, 0}},
		{"attrs.lang", []byte{2<<3 | 2, 2, 'e', 'n'}}, // a map value is field 2 of its entry
	} {
		var got []byte
		if _, err := Replace(body, md, mustPath(t, c.path), func(_ string, _ protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
			got = bytes.Clone(raw)
			return raw, nil
		}); err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if !bytes.Equal(got, c.raw) {
			t.Errorf("%s: fn got %x, want %x", c.path, got, c.raw)
		}
	}
}

func TestReplaceLegacy(t *testing.T) {
	md := compile(t, legacyProto).Messages().ByName("Legacy")
	body := marshal(t, md, `{"nums":[1,2,3],"info":{"secret":"hush","level":4},"kind":"SMALL"}`)
	for _, c := range []struct {
		path string
		at   []string
		want string
	}{
		{"nums[1]", []string{"nums[1]"}, `"nums":[1,-2147483648,3]`},
		{"nums[*]", []string{"nums[0]", "nums[1]", "nums[2]"}, `"nums":[-2147483648,-2147483648,-2147483648]`},
		{"info.secret", []string{"info.secret"}, `"Info":{"secret":"X","level":4}`},
		{"info", []string{"info"}, `"Info":{"secret":null,"level":null}`},
		{"kind", []string{"kind"}, `"kind":"BIG"`},
	} {
		var ats []string
		var raws [][]byte
		p := mustPath(t, c.path)
		out, err := Replace(body, md, p, func(at string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
			ats, raws = append(ats, at), append(raws, raw)
			repl, _, err := Conceal(fd, raw, "X")
			return repl, err
		})
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if !slices.Equal(ats, c.at) {
			t.Errorf("%s: called at %q, want %q", c.path, ats, c.at)
		}
		if js := toJSON(t, md, out); !strings.Contains(js, c.want) {
			t.Errorf("%s: concealed message %s lacks %s", c.path, js, c.want)
		}
		back, err := Replace(out, md, p, func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) {
			raw := raws[0]
			raws = raws[1:]
			return raw, nil
		})
		if err != nil || !bytes.Equal(back, body) {
			t.Errorf("%s: restored %x (%v), want %x", c.path, back, err, body)
		}
	}
}

func TestReplaceErrors(t *testing.T) {
	md, body := customer(t)
	fail := errors.New("boom")
	for _, c := range []struct {
		name string
		body []byte
		path string
		fn   func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error)
		want string // in the error
	}{
		{"packed element", body, "lucky[1]", identity, "packed"},
		{"packed all", body, "lucky[*]", identity, "packed"},
		{"whole repeated", body, "tags", identity, "name its elements"},
		{"whole map", body, "attrs", identity, "name its elements"},
		{"int map key", body, "codes.5", identity, "string keys"},
		{"fn error", body, "name", func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) { return nil, fail }, "boom"},
		{"garbage replacement", body, "name", func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) { return []byte{0xff}, nil }, "replacement"},
		{"other field", body, "name", func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) { return []byte{2<<3 | 2, 0}, nil }, "not one value of field 1"},
		{"other wire type", body, "name", func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) { return []byte{1 << 3, 0}, nil }, "not one value"},
		{"trailing bytes", body, "age", func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) { return []byte{3 << 3, 1, 0}, nil }, "after the field record"},
		{"bad message", body, "home", func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) {
			return []byte{9<<3 | 2, 1, 0x80}, nil
		}, "replacement"},
		{"truncated length", []byte{1<<3 | 2, 5, 'a'}, "name", identity, "offset 0"},
		{"truncated varint", []byte{3 << 3, 0x80}, "age", identity, "offset 0"},
		{"field zero", []byte{0, 1}, "age", identity, "offset 0"},
		{"stray end group", []byte{1<<3 | 4}, "age", identity, "offset 0"},
		{"reserved wire type", []byte{3<<3 | 6, 1}, "age", identity, "offset 0"},
		{"bad nested message", []byte{9<<3 | 2, 2, 0x0a, 0x05}, "home.city", identity, "offset 0"},
		{"bad packed", []byte{12<<3 | 2, 1, 0x80}, "lucky[0]", identity, "packed lucky"},
		{"bad map entry", []byte{13<<3 | 2, 1, 0x80}, "attrs.x", identity, "offset 0"},
		{"garbage after record", append(bytes.Clone(body), 0xff), "name", identity, "offset"},
	} {
		_, err := Replace(c.body, md, mustPath(t, c.path), c.fn)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "protofield: ") {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
	if _, err := Replace(body, md, nil, identity); err == nil {
		t.Error("an empty path gave no error")
	}
	// A sub-message off the path is skipped, not decoded.
	junk := []byte{9<<3 | 2, 1, 0xff, 1<<3 | 2, 1, 'x'}
	if _, err := Replace(junk, md, mustPath(t, "name"), identity); err != nil {
		t.Errorf("a malformed message off the path was decoded: %v", err)
	}
}

func TestReplaceTruncated(t *testing.T) {
	md, body := customer(t)
	p := mustPath(t, "places.work.city")
	for n := range len(body) {
		out, err := Replace(body[:n], md, p, identity)
		if err == nil && !bytes.Equal(out, body[:n]) {
			t.Fatalf("prefix %d: identity replacement changed the data", n)
		}
	}
	if _, err := Replace(body[:len(body)-1], md, p, identity); err == nil {
		t.Error("a truncated last record gave no error")
	}
}

func TestReplaceMixedPacking(t *testing.T) {
	md := compile(t, legacyProto).Messages().ByName("Legacy")
	body := []byte{1<<3 | 2, 2, 1, 2, 1 << 3, 3} // packed 1 and 2, then 3 unpacked
	var got []byte
	var at string
	if _, err := Replace(body, md, mustPath(t, "nums[2]"), func(a string, _ protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
		at, got = a, bytes.Clone(raw)
		return raw, nil
	}); err != nil {
		t.Fatal(err)
	}
	if at != "nums[2]" || !bytes.Equal(got, []byte{1 << 3, 3}) {
		t.Errorf("got %s %x, want nums[2] 0803", at, got)
	}
	if _, err := Replace(body, md, mustPath(t, "nums[1]"), identity); err == nil || !strings.Contains(err.Error(), "packed") {
		t.Errorf("a packed element: %v", err)
	}
}
