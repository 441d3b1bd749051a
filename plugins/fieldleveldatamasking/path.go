package fieldleveldatamasking

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// step is one segment of a field path: a field name, an array index or
// every element of an array ([*]).
type step struct {
	name  string
	index int // an index when name is ""; -1 for [*]
}

// path is a parsed field path such as a.b, a[0].b or a[*].b.
type path []step

// parsePath parses a field path: names separated by dots, each name
// followed by any number of [n] or [*]. A path may start with an index
// when the value is an array.
func parsePath(s string) (path, error) {
	var p path
	rest := s
	for first := true; ; first = false {
		name := rest
		if i := strings.IndexAny(rest, ".[]"); i >= 0 {
			name = rest[:i]
		}
		rest = rest[len(name):]
		if name != "" {
			p = append(p, step{name: name})
		} else if !first || !strings.HasPrefix(rest, "[") {
			return nil, fmt.Errorf("empty field name in %q", s)
		}
		for strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", s)
			}
			idx := rest[1:end]
			switch n, err := strconv.Atoi(idx); {
			case idx == "*":
				p = append(p, step{index: -1})
			case err == nil && n >= 0 && idx[0] != '+':
				p = append(p, step{index: n})
			default:
				return nil, fmt.Errorf("index %q in %q is neither a number nor *", idx, s)
			}
			rest = rest[end+1:]
		}
		if rest == "" {
			return p, nil
		}
		if rest[0] != '.' {
			return nil, fmt.Errorf("unexpected %q in %q", rest[0], s)
		}
		rest = rest[1:]
	}
}

// ruleKind is how a rule masks a string.
type ruleKind string

// The rule types.
const (
	maskAll    ruleKind = "MASK_ALL"
	maskFirstN ruleKind = "MASK_FIRST_N"
	maskLastN  ruleKind = "MASK_LAST_N"
)

// rule masks strings.
type rule struct {
	kind ruleKind
	char rune
	n    int
}

// apply masks s, keeping its length in characters.
func (r rule) apply(s string) string {
	count := utf8.RuneCountInString(s)
	from, to := 0, count // the characters to mask
	switch r.kind {
	case maskFirstN:
		to = min(r.n, count)
	case maskLastN:
		from = max(count-r.n, 0)
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for _, c := range s {
		if i >= from && i < to {
			c = r.char
		}
		b.WriteRune(c)
		i++
	}
	return b.String()
}

// field is one configured path and the rule of its policy.
type field struct {
	raw  string
	path path
	rule rule
}

// outcome collects what masking one value did.
type outcome struct {
	masked int
	// skipped names configured fields that held something other than a
	// string, with the type found.
	skipped map[string]string
}

func (o *outcome) skip(f *field, kind string) {
	if o.skipped == nil {
		o.skipped = map[string]string{}
	}
	o.skipped[f.raw] = kind
}

// maskTree masks the strings at f's path in a decoded JSON or Avro value
// (maps, slices and scalars) and returns the value, changed in place
// where possible. With avroUnions, a single-entry map standing for a
// union branch ({"ns.Record": {...}}) is looked through when the field
// is not found directly.
func maskTree(v any, p path, f *field, o *outcome, avroUnions bool) any {
	if len(p) == 0 {
		switch x := v.(type) {
		case string:
			o.masked++
			return f.rule.apply(x)
		case nil:
			return v
		case map[string]any:
			if avroUnions && len(x) == 1 {
				for k, inner := range x {
					x[k] = maskTree(inner, p, f, o, avroUnions)
				}
				return x
			}
		}
		o.skip(f, kindOf(v))
		return v
	}
	s := p[0]
	switch x := v.(type) {
	case map[string]any:
		if s.name == "" {
			return v
		}
		if inner, ok := x[s.name]; ok {
			x[s.name] = maskTree(inner, p[1:], f, o, avroUnions)
		} else if avroUnions && len(x) == 1 {
			for k, inner := range x {
				x[k] = maskTree(inner, p, f, o, avroUnions)
			}
		}
	case []any:
		switch {
		case s.name != "":
		case s.index < 0:
			for i := range x {
				x[i] = maskTree(x[i], p[1:], f, o, avroUnions)
			}
		case s.index < len(x):
			x[s.index] = maskTree(x[s.index], p[1:], f, o, avroUnions)
		}
	}
	return v
}

// kindOf names the type of a decoded JSON or Avro value for reports.
func kindOf(v any) string {
	switch v.(type) {
	case json.Number, int, int32, int64, float32, float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case []byte:
		return "bytes"
	}
	return fmt.Sprintf("a %T", v)
}
