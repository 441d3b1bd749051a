// Package jsonfield replaces the values at a field path of a JSON document
// while keeping every other byte of the document as it was: key order,
// whitespace, number spelling and string escapes. Field-level encryption
// uses it so that decrypting the replaced values gives back the original
// document byte for byte.
//
// The scanner validates the whole document as it goes, with the same rules
// as encoding/json, so Replace fails on any invalid document whether or not
// the path is found. The one difference is nesting: objects and arrays
// nested deeper than MaxDepth are rejected with ErrTooDeep (encoding/json
// allows 10000 levels).
package jsonfield

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/strait-gateway/strait/fieldpath"
)

// MaxDepth is the deepest nesting of objects and arrays Replace accepts.
const MaxDepth = 1000

// ErrTooDeep is wrapped by the error Replace returns when a document, or a
// replacement once put in place, nests deeper than MaxDepth.
var ErrTooDeep = errors.New("jsonfield: nesting deeper than the limit")

// Replace finds every value at path p in doc and calls fn with the concrete
// path of that value (p with each [*] replaced by the actual index, in
// fieldpath.Path.String form) and the exact bytes of the value: a string
// keeps its quotes, an object or array is given whole. fn returns the bytes
// to put in its place, which must be one valid JSON value.
//
// A Name step matches every member of an object whose unescaped key equals
// it (so every duplicate of a key); an Index step matches that element of an
// array and All every element. A Name step never matches inside an array
// and an index never matches inside an object; values not found are
// skipped. A path that starts with an index applies to a top-level array,
// and an empty path to the whole document.
//
// When fn is never called Replace returns doc itself; otherwise it returns a
// new slice. doc is never modified. A nil fn only validates doc. Errors
// name the byte offset of the problem and never quote document content.
func Replace(doc []byte, p fieldpath.Path, fn func(at string, raw []byte) ([]byte, error)) ([]byte, error) {
	s := scanner{doc: doc, path: p, fn: fn}
	if len(p) > len(s.idx) {
		s.moreIdx = make([]int, len(p))
	}
	if err := s.document(0); err != nil {
		return nil, err
	}
	if s.out == nil {
		return doc, nil
	}
	return append(s.out, doc[s.copied:]...), nil
}

// scanner walks one JSON document. With a nil fn it only validates.
type scanner struct {
	doc  []byte
	path fieldpath.Path
	fn   func(at string, raw []byte) ([]byte, error)

	idx     [16]int // idx[k] is the array index path step k matched
	moreIdx []int   // used instead of idx by paths longer than 16 steps
	out     []byte  // the output so far, nil until the first replacement
	copied  int     // doc[:copied] has been dealt with in out
	scratch []byte  // unescaped object keys
}

// syntaxError reports what was expected at offset i.
func (s *scanner) syntaxError(i int, what string) error {
	if i >= len(s.doc) {
		return fmt.Errorf("jsonfield: unexpected end of JSON at offset %d, expecting %s", i, what)
	}
	return fmt.Errorf("jsonfield: invalid character at offset %d, expecting %s", i, what)
}

// document checks that doc is a single value surrounded by optional
// whitespace, the value nested at depth.
func (s *scanner) document(depth int) error {
	i := s.space(0)
	matched := 0
	if s.fn == nil {
		matched = -1
	}
	i, err := s.value(i, depth, matched)
	if err != nil {
		return err
	}
	if i = s.space(i); i != len(s.doc) {
		return fmt.Errorf("jsonfield: unexpected data after the JSON value at offset %d", i)
	}
	return nil
}

// space returns the offset of the first non-whitespace byte from i.
func (s *scanner) space(i int) int {
	doc := s.doc
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value scans the value starting at i and returns the offset just after it.
// matched is how many steps of the path lead here, or -1 when the value is
// off the path; at len(path) the value is replaced.
func (s *scanner) value(i, depth, matched int) (int, error) {
	if matched == len(s.path) {
		end, err := s.value(i, depth, -1)
		if err != nil {
			return 0, err
		}
		return end, s.replace(i, end, depth)
	}
	if i >= len(s.doc) {
		return 0, s.syntaxError(i, "a value")
	}
	switch c := s.doc[i]; {
	case c == '{':
		return s.object(i, depth+1, matched)
	case c == '[':
		return s.array(i, depth+1, matched)
	case c == '"':
		end, _, err := s.str(i)
		return end, err
	case c == '-' || c >= '0' && c <= '9':
		return s.number(i)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	default:
		return 0, s.syntaxError(i, "a value")
	}
}

// object scans the object whose '{' is at i.
func (s *scanner) object(i, depth, matched int) (int, error) {
	if depth > MaxDepth {
		return 0, fmt.Errorf("%w of %d at offset %d", ErrTooDeep, MaxDepth, i)
	}
	var name string
	if matched >= 0 && s.path[matched].Name != "" {
		name = s.path[matched].Name
	}
	if i = s.space(i + 1); i < len(s.doc) && s.doc[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(s.doc) || s.doc[i] != '"' {
			return 0, s.syntaxError(i, "a string key")
		}
		end, plain, err := s.str(i)
		if err != nil {
			return 0, err
		}
		child := -1
		if name != "" && s.keyIs(s.doc[i:end], plain, name) {
			child = matched + 1
		}
		if i = s.space(end); i >= len(s.doc) || s.doc[i] != ':' {
			return 0, s.syntaxError(i, "':' after an object key")
		}
		if i, err = s.value(s.space(i+1), depth, child); err != nil {
			return 0, err
		}
		if i = s.space(i); i < len(s.doc) && s.doc[i] == '}' {
			return i + 1, nil
		}
		if i >= len(s.doc) || s.doc[i] != ',' {
			return 0, s.syntaxError(i, "',' or '}' in an object")
		}
		i = s.space(i + 1)
	}
}

// keyIs reports whether the quoted key equals name once unescaped.
func (s *scanner) keyIs(quoted []byte, plain bool, name string) bool {
	if plain {
		return string(quoted[1:len(quoted)-1]) == name
	}
	s.scratch, _ = appendUnquoted(s.scratch[:0], quoted)
	return string(s.scratch) == name
}

// array scans the array whose '[' is at i.
func (s *scanner) array(i, depth, matched int) (int, error) {
	if depth > MaxDepth {
		return 0, fmt.Errorf("%w of %d at offset %d", ErrTooDeep, MaxDepth, i)
	}
	want := -2 // no element matches
	if matched >= 0 && s.path[matched].Name == "" {
		want = s.path[matched].Index
	}
	if i = s.space(i + 1); i < len(s.doc) && s.doc[i] == ']' {
		return i + 1, nil
	}
	for k := 0; ; k++ {
		child := -1
		if want == fieldpath.All || want == k {
			s.setIdx(matched, k)
			child = matched + 1
		}
		var err error
		if i, err = s.value(i, depth, child); err != nil {
			return 0, err
		}
		if i = s.space(i); i < len(s.doc) && s.doc[i] == ']' {
			return i + 1, nil
		}
		if i >= len(s.doc) || s.doc[i] != ',' {
			return 0, s.syntaxError(i, "',' or ']' in an array")
		}
		i = s.space(i + 1)
	}
}

// setIdx records that path step k matched array element i.
func (s *scanner) setIdx(k, i int) {
	if s.moreIdx != nil {
		s.moreIdx[k] = i
	} else {
		s.idx[k] = i
	}
}

// str scans the string whose '"' is at i. plain reports that it holds
// neither escapes nor bytes outside ASCII, so its bytes are its content.
func (s *scanner) str(i int) (end int, plain bool, err error) {
	doc := s.doc
	plain = true
	for j := i + 1; ; j++ {
		for j < len(doc) && ordinary[doc[j]] {
			j++
		}
		if j >= len(doc) {
			return 0, false, s.syntaxError(j, "the end of a string")
		}
		switch c := doc[j]; {
		case c == '"':
			return j + 1, plain, nil
		case c < ' ':
			return 0, false, s.syntaxError(j, "a string character (control characters must be escaped)")
		case c >= 0x80:
			plain = false
		default: // a backslash
			plain = false
			j++
			if j >= len(doc) {
				return 0, false, s.syntaxError(j, "an escape")
			}
			switch doc[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 0; k < 4; k++ {
					if j++; j >= len(doc) || unhex(doc[j]) < 0 {
						return 0, false, s.syntaxError(j, "a hexadecimal digit in a \\u escape")
					}
				}
			default:
				return 0, false, s.syntaxError(j, "an escape")
			}
		}
	}
}

// ordinary holds the string bytes that stand for themselves: printable
// ASCII other than '"' and '\\'.
var ordinary = func() (t [256]bool) {
	for c := ' '; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// number scans the number starting at i.
func (s *scanner) number(i int) (int, error) {
	if s.doc[i] == '-' {
		i++
	}
	switch {
	case i < len(s.doc) && s.doc[i] == '0':
		i++
	case i < len(s.doc) && s.doc[i] >= '1' && s.doc[i] <= '9':
		i = s.digits(i)
	default:
		return 0, s.syntaxError(i, "a digit")
	}
	if i < len(s.doc) && s.doc[i] == '.' {
		if i++; i >= len(s.doc) || !isDigit(s.doc[i]) {
			return 0, s.syntaxError(i, "a digit after the decimal point")
		}
		i = s.digits(i)
	}
	if i < len(s.doc) && (s.doc[i] == 'e' || s.doc[i] == 'E') {
		if i++; i < len(s.doc) && (s.doc[i] == '+' || s.doc[i] == '-') {
			i++
		}
		if i >= len(s.doc) || !isDigit(s.doc[i]) {
			return 0, s.syntaxError(i, "a digit in the exponent")
		}
		i = s.digits(i)
	}
	return i, nil
}

// digits returns the offset of the first non-digit from i.
func (s *scanner) digits(i int) int {
	for i < len(s.doc) && isDigit(s.doc[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// literal scans true, false or null at i.
func (s *scanner) literal(i int, lit string) (int, error) {
	for k := 1; k < len(lit); k++ {
		if i+k >= len(s.doc) || s.doc[i+k] != lit[k] {
			return 0, s.syntaxError(i+k, strconv.Quote(lit))
		}
	}
	return i + len(lit), nil
}

// replace calls fn for the value doc[start:end] found at the path and
// appends its replacement to the output.
func (s *scanner) replace(start, end, depth int) error {
	at := s.at()
	rep, err := s.fn(at, s.doc[start:end])
	if err != nil {
		return fmt.Errorf("jsonfield: replacing %s: %w", at, err)
	}
	check := scanner{doc: rep}
	if err := check.document(depth); err != nil {
		return fmt.Errorf("jsonfield: replacement for %s is not valid JSON: %w", at, err)
	}
	if s.out == nil {
		s.out = make([]byte, 0, len(s.doc)+len(rep)-(end-start)+64)
	}
	s.out = append(s.out, s.doc[s.copied:start]...)
	s.out = append(s.out, rep...)
	s.copied = end
	return nil
}

// at returns the path being replaced with the actual array indexes.
func (s *scanner) at() string {
	var buf [128]byte
	b := buf[:0]
	for k, st := range s.path {
		switch {
		case st.Name != "" && k > 0:
			b = append(append(b, '.'), st.Name...)
		case st.Name != "":
			b = append(b, st.Name...)
		default:
			idx := s.moreIdx
			if idx == nil {
				idx = s.idx[:]
			}
			b = append(strconv.AppendInt(append(b, '['), int64(idx[k]), 10), ']')
		}
	}
	return string(b)
}
