// Package fieldpath parses the field paths interceptors use to name parts
// of a structured record value: names separated by dots, each followed by
// any number of array indexes, such as a.b, a[0].b or a[*].b (every
// element).
package fieldpath

import (
	"fmt"
	"strconv"
	"strings"
)

// Step is one segment of a path: a field Name, or, when Name is "", an
// array Index (All for [*]).
type Step struct {
	Name  string
	Index int
}

// All is the Index of [*], every element of an array.
const All = -1

// Path is a parsed field path.
type Path []Step

// Parse parses a field path. A path may start with an index when the
// value is an array.
func Parse(s string) (Path, error) {
	var p Path
	rest := s
	for first := true; ; first = false {
		name := rest
		if i := strings.IndexAny(rest, ".[]"); i >= 0 {
			name = rest[:i]
		}
		rest = rest[len(name):]
		if name != "" {
			p = append(p, Step{Name: name})
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
				p = append(p, Step{Index: All})
			case err == nil && n >= 0 && idx[0] != '+':
				p = append(p, Step{Index: n})
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

// String writes the path back in its parsed form.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.Name != "" && i > 0:
			b.WriteString("." + s.Name)
		case s.Name != "":
			b.WriteString(s.Name)
		case s.Index == All:
			b.WriteString("[*]")
		default:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		}
	}
	return b.String()
}
