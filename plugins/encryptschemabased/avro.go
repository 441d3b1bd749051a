package encryptschemabased

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hamba/avro/v2"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/plugins/encrypt"
)

// rules say which schema annotations mark a field, and what a marked
// field lacks is taken from.
type rules struct {
	namespace  string
	tags       []string
	defaultKey *interceptor.Template // nil: none
	defaultAlg encryption.Algorithm
}

// avroFields returns the fields an Avro schema marks, with their paths:
// fields of nested records, of every record branch of a union, and of
// the records of arrays (items[*].x). A marked field is encrypted whole,
// whatever its type.
func (r rules) avroFields(s avro.Schema) ([]encrypt.Field, error) {
	w := &walker{rules: r, collector: collector{at: map[string]int{}}, open: map[*avro.RecordSchema]bool{}, recursed: map[*avro.RecordSchema]bool{}}
	if err := w.walk(s, nil, false); err != nil {
		return nil, err
	}
	return w.out, nil
}

// walker collects the marked fields of one Avro schema.
type walker struct {
	rules rules
	collector
	open     map[*avro.RecordSchema]bool
	recursed map[*avro.RecordSchema]bool
}

// walk looks for marked fields in s, found at path; inMap tells that s
// is inside map values, which a path cannot name.
func (w *walker) walk(s avro.Schema, path fieldpath.Path, inMap bool) error {
	switch s := s.(type) {
	case *avro.RefSchema:
		return w.walk(s.Schema(), path, inMap)
	case *avro.RecordSchema:
		return w.record(s, path, inMap)
	case *avro.UnionSchema:
		for _, b := range s.Types() {
			if err := w.walk(b, path, inMap); err != nil {
				return err
			}
		}
	case *avro.ArraySchema:
		return w.walk(s.Items(), append(slices.Clip(path), fieldpath.Step{Index: fieldpath.All}), inMap)
	case *avro.MapSchema:
		return w.walk(s.Values(), path, true)
	}
	return nil
}

// record walks the fields of a record. A recursive record's nested
// levels cannot all be named by paths, so it may not hold marked fields.
func (w *walker) record(s *avro.RecordSchema, path fieldpath.Path, inMap bool) error {
	if w.open[s] {
		w.recursed[s] = true
		return nil
	}
	w.open[s] = true
	defer delete(w.open, s)
	before := len(w.out)
	for _, f := range s.Fields() {
		p := append(slices.Clip(path), fieldpath.Step{Name: f.Name()})
		spec, marked, err := w.rules.mark(f)
		switch {
		case err != nil:
			return fmt.Errorf("field %s: %w", p, err)
		case marked && inMap:
			return fmt.Errorf("field %s is marked for encryption inside the values of a map, which field paths cannot name", p)
		case marked:
			spec.Path = p
			if err := w.add(spec); err != nil {
				return err
			}
		default:
			if err := w.walk(f.Type(), p, inMap); err != nil {
				return err
			}
		}
	}
	if w.recursed[s] && len(w.out) > before {
		return fmt.Errorf("record %s is recursive and holds fields marked for encryption; its nested levels cannot be named", s.FullName())
	}
	return nil
}

// collector keeps the marked fields found so far, each path once.
type collector struct {
	out []encrypt.Field
	at  map[string]int // index in out by path
}

// add records a marked field once; union branches may reach one path
// twice, and must then agree on how it is encrypted.
func (w *collector) add(f encrypt.Field) error {
	key := f.Path.String()
	i, ok := w.at[key]
	if !ok {
		w.at[key] = len(w.out)
		w.out = append(w.out, f)
		return nil
	}
	prev := w.out[i]
	if encrypt.RawTemplate(prev.KeySecretID) != encrypt.RawTemplate(f.KeySecretID) || prev.Algorithm != f.Algorithm {
		return fmt.Errorf("field %s is marked twice, with different keys or algorithms", key)
	}
	return nil
}

// mark reads a field's annotations — on the field, or else on its type —
// and returns its key and algorithm when it is marked for encryption.
func (r rules) mark(f *avro.Field) (encrypt.Field, bool, error) {
	typ := f.Type()
	if ref, ok := typ.(*avro.RefSchema); ok {
		typ = ref.Schema()
	}
	prop := func(name string) any {
		if v := f.Prop(r.namespace + name); v != nil {
			return v
		}
		if ps, ok := typ.(avro.PropertySchema); ok {
			return ps.Prop(r.namespace + name)
		}
		return nil
	}
	return r.annotated(prop)
}

// annotated reads the annotations prop gives (by name, without the
// namespace) and returns the field's key and algorithm when they mark it
// for encryption.
func (r rules) annotated(prop func(name string) any) (encrypt.Field, bool, error) {
	key, alg := prop("keySecretId"), prop("algorithm")
	tagged, err := r.tagged(prop("tags"))
	if err != nil || (key == nil && alg == nil && !tagged) {
		return encrypt.Field{}, false, err
	}
	out := encrypt.Field{Algorithm: r.defaultAlg}
	switch k, ok := key.(string); {
	case key != nil && !ok:
		return out, false, fmt.Errorf("%skeySecretId is not a string", r.namespace)
	case key != nil:
		if out.KeySecretID, err = interceptor.ParseTemplate(k); err == nil {
			err = encrypt.CheckKeySecretID(out.KeySecretID)
		}
		if err != nil {
			return out, false, fmt.Errorf("%skeySecretId: %w", r.namespace, err)
		}
	case r.defaultKey != nil:
		out.KeySecretID = *r.defaultKey
	default:
		return out, false, fmt.Errorf("marked for encryption but the schema names no %skeySecretId and the interceptor has no defaultKeySecretId", r.namespace)
	}
	if alg != nil {
		a, ok := alg.(string)
		if !ok {
			return out, false, fmt.Errorf("%salgorithm is not a string", r.namespace)
		}
		if out.Algorithm, err = encryption.ParseAlgorithm(a); err != nil {
			return out, false, fmt.Errorf("%salgorithm: %w", r.namespace, err)
		}
	}
	return out, true, nil
}

// tagged reports whether a tags annotation (a string or a list of
// strings) names one of the interceptor's tags.
func (r rules) tagged(v any) (bool, error) {
	var tags []any
	switch x := v.(type) {
	case nil:
		return false, nil
	case string:
		tags = []any{x}
	case []any:
		tags = x
	default:
		return false, errors.New(r.namespace + "tags is neither a string nor a list of strings")
	}
	found := false
	for _, t := range tags {
		s, ok := t.(string)
		if !ok {
			return false, errors.New(r.namespace + "tags holds a value that is not a string")
		}
		found = found || slices.Contains(r.tags, s)
	}
	return found, nil
}
