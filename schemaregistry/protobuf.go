package schemaregistry

import (
	"context"
	"errors"
	"fmt"

	"github.com/bufbuild/protocompile"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// compileProto compiles a registry's .proto schema text with the files
// it references, fetched from the registry under their import names.
func compileProto(ctx context.Context, cl *sr.Client, id int, s sr.Schema) (protoreflect.FileDescriptor, error) {
	main := fmt.Sprintf("strait-registry-schema-%d.proto", id)
	files := map[string]string{main: s.Schema}
	var fetch func(refs []sr.SchemaReference, depth int) error
	fetch = func(refs []sr.SchemaReference, depth int) error {
		if depth > 16 {
			return errors.New("references nested too deep")
		}
		for _, r := range refs {
			if _, done := files[r.Name]; done {
				continue
			}
			ref, err := cl.SchemaByVersion(ctx, r.Subject, r.Version)
			if err != nil {
				return fmt.Errorf("reference %s: %w", r.Name, err)
			}
			files[r.Name] = ref.Schema.Schema
			if err := fetch(ref.References, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fetch(s.References, 0); err != nil {
		return nil, err
	}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(files),
	})}
	out, err := c.Compile(ctx, main)
	if err != nil {
		return nil, fmt.Errorf("compile protobuf schema: %w", err)
	}
	return out[0], nil
}
