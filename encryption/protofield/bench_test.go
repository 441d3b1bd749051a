package protofield

import (
	"testing"

	"github.com/strait-gateway/strait/fieldpath"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// BenchmarkReplace measures one record with three encrypted fields; the
// replacements stand in for ciphertext of realistic size.
func BenchmarkReplace(b *testing.B) {
	md, body := customer(b)
	var paths []fieldpath.Path
	for _, p := range []string{"email", "home.street", "balance"} {
		paths = append(paths, mustPath(b, p))
	}
	ct := string(make([]byte, 60))
	fn := func(_ string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
		repl, _, err := Conceal(fd, raw, ct)
		return repl, err
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		out := body
		for _, p := range paths {
			var err error
			if out, err = Replace(out, md, p, fn); err != nil {
				b.Fatal(err)
			}
		}
	}
}
