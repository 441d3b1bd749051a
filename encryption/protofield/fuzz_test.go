package protofield

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

func FuzzReplace(f *testing.F) {
	md, body := customer(f)
	paths := []string{"name", "age", "home.city", "home", "tags[*]", "addresses[1].street", "attrs.secret",
		"places.work.city", "email", "score", "lucky[0]", "codes.5", "tags"}
	for i := range paths {
		f.Add(body, uint8(i))
	}
	f.Add([]byte{9<<3 | 2, 2, 0x0a, 0x05}, uint8(2))
	f.Add([]byte{13<<3 | 2, 4, 0x0a, 0, 0x08, 0}, uint8(6)) // makes proto.Unmarshal panic
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		p := mustPath(t, paths[int(which)%len(paths)])
		orig := bytes.Clone(body)
		out, err := Replace(body, md, p, identity)
		if !bytes.Equal(body, orig) {
			t.Fatal("body modified")
		}
		if err != nil {
			return
		}
		if !bytes.Equal(out, body) {
			t.Fatalf("identity replacement changed %x into %x", body, out)
		}
		var raws [][]byte
		concealed, err := Replace(body, md, p, func(_ string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
			raws = append(raws, raw)
			repl, _, err := Conceal(fd, raw, "ct")
			return repl, err
		})
		if err != nil {
			t.Fatalf("conceal failed on data the identity walk accepted: %v", err)
		}
		back, err := Replace(concealed, md, p, func(string, protoreflect.FieldDescriptor, []byte) ([]byte, error) {
			if len(raws) == 0 {
				t.Fatal("the concealed data has more fields at the path")
			}
			raw := raws[0]
			raws = raws[1:]
			return raw, nil
		})
		if err != nil || len(raws) != 0 {
			t.Fatalf("concealed data no longer walks: %v (%d fields left)", err, len(raws))
		}
		// Rewritten length prefixes are minimal: a prefix written longer
		// than needed comes back shorter, any other byte as it was.
		if len(back) > len(body) {
			t.Fatalf("restored %x from %x", back, body)
		}
		if a, b := dynamicpb.NewMessage(md), dynamicpb.NewMessage(md); unmarshal(body, a) == nil {
			if err := unmarshal(back, b); err != nil || !proto.Equal(a, b) {
				t.Fatalf("restored %x, a different message from %x (%v)", back, body, err)
			}
		}
	})
}

// unmarshal decodes b into m; a panic of proto.Unmarshal (v1.36.12 panics
// on a map entry whose key is first a string, then a varint) is an error.
func unmarshal(b []byte, m proto.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("proto.Unmarshal panicked: %v", r)
		}
	}()
	return proto.Unmarshal(b, m)
}
