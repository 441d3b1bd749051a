package fieldleveldatamasking

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/strait-gateway/strait/fieldpath"
)

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
	path fieldpath.Path
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
func maskTree(v any, p fieldpath.Path, f *field, o *outcome, avroUnions bool) any {
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
		if s.Name == "" {
			return v
		}
		if inner, ok := x[s.Name]; ok {
			x[s.Name] = maskTree(inner, p[1:], f, o, avroUnions)
		} else if avroUnions && len(x) == 1 {
			for k, inner := range x {
				x[k] = maskTree(inner, p, f, o, avroUnions)
			}
		}
	case []any:
		switch {
		case s.Name != "":
		case s.Index < 0:
			for i := range x {
				x[i] = maskTree(x[i], p[1:], f, o, avroUnions)
			}
		case s.Index < len(x):
			x[s.Index] = maskTree(x[s.Index], p[1:], f, o, avroUnions)
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
