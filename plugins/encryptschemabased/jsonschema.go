package encryptschemabased

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/plugins/encrypt"
)

// maxVisits bounds the subschemas one JSON Schema walk visits, so that
// references used many times over cannot make it run for long.
const maxVisits = 1 << 16

// maxRefHops bounds the $ref chain read for a property's annotations.
const maxRefHops = 32

// jsonFields returns the properties a JSON Schema marks, with their
// paths: properties of nested objects (a.b), of array items (a[*].b) and
// of tuple positions (a[0].b), of every allOf, anyOf and oneOf branch and
// if/then/else, and of what local $refs point at. A marked property is
// encrypted whole, whatever its type.
func (r rules) jsonFields(text string) ([]encrypt.Field, error) {
	var root any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return nil, fmt.Errorf("JSON Schema: %w", err)
	}
	switch root.(type) {
	case bool: // true or false: no properties
		return nil, nil
	case map[string]any:
	default:
		return nil, errors.New("JSON Schema is neither an object nor a boolean")
	}
	w := &jsonWalker{rules: r, root: root, collector: collector{at: map[string]int{}}, open: map[string]bool{}, recursed: map[string]bool{}}
	if err := w.walk(root, nil, ""); err != nil {
		return nil, err
	}
	if err := overlapping(w.out); err != nil {
		return nil, err
	}
	return w.out, nil
}

// jsonWalker collects the marked properties of one JSON Schema.
type jsonWalker struct {
	rules rules
	root  any
	collector
	open     map[string]bool // $refs being walked
	recursed map[string]bool // $refs met again while open
	visits   int
}

// walk looks for marked properties in schema s, found at path. lost,
// when not empty, says why no path can name where s is: a mark there
// cannot be honoured.
func (w *jsonWalker) walk(s any, path fieldpath.Path, lost string) error {
	if w.visits++; w.visits > maxVisits {
		return fmt.Errorf("JSON Schema has more than %d subschemas to walk", maxVisits)
	}
	m, ok := s.(map[string]any)
	if !ok {
		return nil // true, false, or not a schema
	}
	spec, marked, err := w.rules.annotated(w.prop(m))
	atProperty := len(path) > 0 && path[len(path)-1].Name != ""
	switch {
	case err != nil && atProperty:
		return fmt.Errorf("property %s: %w", path, err)
	case err != nil:
		return fmt.Errorf("%s: %w", where(path), err)
	case marked && lost != "":
		return fmt.Errorf("%s is marked for encryption inside %s, which field paths cannot name", where(path), lost)
	case marked && !atProperty:
		return fmt.Errorf("%s is marked for encryption; only object properties can be", where(path))
	case marked:
		spec.Path = path
		return w.add(spec)
	}
	if ref, ok := m["$ref"]; ok {
		if err := w.ref(ref, path, lost); err != nil {
			return err
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		branches, _ := m[kw].([]any)
		for _, b := range branches {
			if err := w.walk(b, path, lost); err != nil {
				return err
			}
		}
	}
	for _, kw := range []string{"if", "then", "else"} {
		if err := w.walk(m[kw], path, lost); err != nil {
			return err
		}
	}
	if err := w.properties(m, path, lost); err != nil {
		return err
	}
	return w.items(m, path, lost)
}

// properties walks the members of an object schema.
func (w *jsonWalker) properties(m map[string]any, path fieldpath.Path, lost string) error {
	props, _ := m["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names) // a stable order of fields, whatever the map's
	for _, name := range names {
		l := lost
		if l == "" && (name == "" || strings.ContainsAny(name, ".[]")) {
			l = "property " + strconv.Quote(name)
		}
		if err := w.walk(props[name], append(slices.Clip(path), fieldpath.Step{Name: name}), l); err != nil {
			return err
		}
	}
	// Members named by a pattern or not listed: no path can name them.
	unnamed := []any{m["additionalProperties"]}
	pats, _ := m["patternProperties"].(map[string]any)
	for _, p := range pats {
		unnamed = append(unnamed, p)
	}
	for _, s := range unnamed {
		l := lost
		if l == "" {
			l = "additionalProperties or patternProperties"
		}
		if err := w.walk(s, path, l); err != nil {
			return err
		}
	}
	return nil
}

// items walks the elements of an array schema: items (a[*]), or the
// tuple positions of an items list or prefixItems (a[0], a[1]...).
func (w *jsonWalker) items(m map[string]any, path fieldpath.Path, lost string) error {
	tuple, _ := m["prefixItems"].([]any)
	rest := m["items"]
	if list, ok := rest.([]any); ok { // the tuple form of drafts before 2020-12
		tuple, rest = list, m["additionalItems"]
	}
	for i, s := range tuple {
		if err := w.walk(s, append(slices.Clip(path), fieldpath.Step{Index: i}), lost); err != nil {
			return err
		}
	}
	l := lost
	if l == "" && len(tuple) > 0 {
		l = "array elements past the tuple positions"
	}
	return w.walk(rest, append(slices.Clip(path), fieldpath.Step{Index: fieldpath.All}), l)
}

// ref walks what a $ref points at, at the same path. A schema that
// refers back to itself has nested levels no path names, so it may not
// hold marked properties.
func (w *jsonWalker) ref(ref any, path fieldpath.Path, lost string) error {
	s, key, err := w.resolve(ref)
	if err != nil {
		return fmt.Errorf("%s: %w", where(path), err)
	}
	if w.open[key] {
		w.recursed[key] = true
		return nil
	}
	w.open[key] = true
	defer delete(w.open, key)
	before := len(w.out)
	if err := w.walk(s, path, lost); err != nil {
		return err
	}
	if w.recursed[key] && len(w.out) > before {
		return fmt.Errorf("$ref %s is recursive and holds properties marked for encryption; its nested levels cannot be named", key)
	}
	return nil
}

// resolve finds the subschema a local $ref ("#", "#/$defs/X",
// "#/definitions/X" or any JSON Pointer into the schema) points at; key
// is the pointer, unescaped.
func (w *jsonWalker) resolve(ref any) (any, string, error) {
	s, ok := ref.(string)
	if !ok {
		return nil, "", errors.New("$ref is not a string")
	}
	ptr, ok := strings.CutPrefix(s, "#")
	if !ok || (ptr != "" && ptr[0] != '/') {
		return nil, "", fmt.Errorf("$ref %q is not a pointer into this schema; other schemas are not read, so the value is refused rather than stored clear", s)
	}
	ptr, err := url.PathUnescape(ptr)
	if err != nil {
		return nil, "", fmt.Errorf("$ref %q: %w", s, err)
	}
	at := w.root
	if ptr != "" {
		for _, tok := range strings.Split(ptr[1:], "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch x := at.(type) {
			case map[string]any:
				at, ok = x[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				ok = err == nil && i >= 0 && i < len(x)
				if ok {
					at = x[i]
				}
			default:
				ok = false
			}
			if !ok {
				return nil, "", fmt.Errorf("$ref %q points at nothing", s)
			}
		}
	}
	return at, "#" + ptr, nil
}

// prop reads an annotation of a subschema: its own, or else the one of
// what its $ref chain points at.
func (w *jsonWalker) prop(m map[string]any) func(name string) any {
	return func(name string) any {
		at := m
		for range maxRefHops {
			if v, ok := at[w.rules.namespace+name]; ok {
				return v
			}
			s, _, err := w.resolve(at["$ref"])
			next, ok := s.(map[string]any)
			if err != nil || !ok {
				return nil // walk reports a bad $ref
			}
			at = next
		}
		return nil
	}
}

// where names a place in a schema for errors.
func where(path fieldpath.Path) string {
	if len(path) == 0 {
		return "the root schema"
	}
	return "schema at " + path.String()
}

// overlapping refuses two marked fields of which one holds the other
// (a and a.b, or a[*].b and a[0].b): encrypting both would encrypt
// ciphertext or lose a field.
func overlapping(fs []encrypt.Field) error {
	for i, a := range fs {
		for _, b := range fs[i+1:] {
			if contains(a.Path, b.Path) || contains(b.Path, a.Path) {
				return fmt.Errorf("fields %s and %s are both marked for encryption, and one holds the other", a.Path, b.Path)
			}
		}
	}
	return nil
}

// contains reports whether path outer names outer itself or a part of
// it that inner may name.
func contains(outer, inner fieldpath.Path) bool {
	if len(outer) > len(inner) {
		return false
	}
	for i, s := range outer {
		t := inner[i]
		if s.Name != t.Name || (s.Name == "" && s.Index != t.Index && s.Index != fieldpath.All && t.Index != fieldpath.All) {
			return false
		}
	}
	return true
}
