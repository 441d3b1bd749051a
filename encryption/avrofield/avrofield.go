// Package avrofield replaces single values inside Avro binary data
// without decoding the rest: it walks the encoding with its writer
// schema, finds the byte span of every value a field path names, and
// splices replacements in, so that every other byte stays as written.
// Field-level encryption uses it to keep an encrypted record a valid
// record of the same schema and to restore the original bytes exactly.
package avrofield

import (
	"fmt"
	"slices"

	"github.com/hamba/avro/v2"
	"github.com/strait-gateway/strait/fieldpath"
)

// Replace walks body, Avro binary written with schema s, and calls fn for
// every value at path p with the value's concrete path (such as
// "items[2].card"), its schema and its exact encoding; fn returns the
// encoding to put in its place. Name steps select record fields and map entries
// by key, index steps select array elements, and a union is looked
// through (to the branch the data holds) on the way to a step. For a
// union-typed value fn gets the union schema and the branch index with
// the value. fn must return a valid encoding of the schema it was given.
// Replace returns body itself when fn was never called and never
// modifies body.
func Replace(body []byte, s avro.Schema, p fieldpath.Path, fn func(at string, s avro.Schema, raw []byte) ([]byte, error)) ([]byte, error) {
	var at [8]fieldpath.Step // room for the concrete path of most paths
	w := walker{body: body, fn: fn}
	end, err := w.walk(s, 0, p, at[:0], 0)
	if err != nil {
		return nil, err
	}
	if end != len(body) {
		return nil, fmt.Errorf("avrofield: %d trailing bytes", len(body)-end)
	}
	if !w.called {
		return body, nil
	}
	return append(w.out, body[w.copied:]...), nil
}

// walker holds the state of one Replace: the output built so far holds
// body[:copied] with the replacements made in it.
type walker struct {
	body   []byte
	fn     func(at string, s avro.Schema, raw []byte) ([]byte, error)
	out    []byte
	copied int
	called bool
}

// walk follows p through the value of schema s at body[pos:], reached by
// the concrete path at, and returns the position after that value.
func (w *walker) walk(s avro.Schema, pos int, p, at fieldpath.Path, depth int) (int, error) {
	if depth > maxDepth {
		return pos, errDepth
	}
	if len(p) == 0 {
		return w.replace(s, pos, at, depth)
	}
	switch s := s.(type) {
	case *avro.RefSchema:
		return w.walk(s.Schema(), pos, p, at, depth+1)
	case *avro.UnionSchema:
		_, branch, next, err := readUnion(w.body, s, pos)
		if err != nil {
			return next, err
		}
		return w.walk(branch, next, p, at, depth+1)
	case *avro.RecordSchema:
		if p[0].Name != "" {
			return w.record(s, pos, p, at, depth)
		}
	case *avro.ArraySchema:
		if p[0].Name == "" {
			return w.blocks(false, s.Items(), pos, p, at, depth)
		}
	case *avro.MapSchema:
		if p[0].Name != "" {
			return w.blocks(true, s.Values(), pos, p, at, depth)
		}
	}
	return skip(w.body, s, pos, depth)
}

// record walks the record fields, following p into the one it names.
func (w *walker) record(s *avro.RecordSchema, pos int, p, at fieldpath.Path, depth int) (int, error) {
	var err error
	for _, f := range s.Fields() {
		if f.Name() == p[0].Name {
			pos, err = w.walk(f.Type(), pos, p[1:], append(at, p[0]), depth+1)
		} else {
			pos, err = skip(w.body, f.Type(), pos, depth+1)
		}
		if err != nil {
			return pos, err
		}
	}
	return pos, nil
}

// blocks walks an array or, when isMap, a map, following p into the
// elements or entries its first step selects.
func (w *walker) blocks(isMap bool, items avro.Schema, pos int, p, at fieldpath.Path, depth int) (int, error) {
	index := 0
	for {
		header := pos
		count, size, next, err := readBlockCount(w.body, pos)
		if err != nil || count == 0 {
			return next, err
		}
		pos = next
		if !isMap && size >= 0 && p[0].Index != fieldpath.All &&
			(p[0].Index < index || int64(p[0].Index-index) >= count) {
			pos += size // the element wanted is not in this block
			index += int(count)
			continue
		}
		if count > int64(len(w.body)-pos) {
			if isMap || !zeroWidth(items, depth+1) {
				return pos, errTruncated
			}
			if count > maxZeroWidthItems {
				return pos, fmt.Errorf("avrofield: array of %d empty items", count)
			}
		}
		mark, copied := len(w.out), w.copied
		for ; count > 0; count-- {
			if pos, err = w.item(isMap, items, pos, index, p, at, depth); err != nil {
				return pos, err
			}
			index++
		}
		if size >= 0 {
			if pos != next+size {
				return pos, fmt.Errorf("avrofield: block at offset %d is not %d bytes long", header, size)
			}
			if w.copied > copied {
				w.resize(mark+header-copied, next, header, pos)
			}
		}
	}
}

// item walks one array element or map entry.
func (w *walker) item(isMap bool, items avro.Schema, pos, index int, p, at fieldpath.Path, depth int) (int, error) {
	if isMap {
		n, next, err := readLen(w.body, pos)
		if err != nil {
			return next, err
		}
		pos = next + n
		if string(w.body[next:pos]) != p[0].Name {
			return skip(w.body, items, pos, depth+1)
		}
		return w.walk(items, pos, p[1:], append(at, p[0]), depth+1)
	}
	if p[0].Index != fieldpath.All && p[0].Index != index {
		return skip(w.body, items, pos, depth+1)
	}
	return w.walk(items, pos, p[1:], append(at, fieldpath.Step{Index: index}), depth+1)
}

// resize rewrites the byte size of a sized block whose contents changed.
// The block header (count, then size) spans body[header:data] and starts
// at out[at:]; the block's items end at body[end:].
func (w *walker) resize(at, data, header, end int) {
	w.out = append(w.out, w.body[w.copied:end]...)
	w.copied = end
	_, countEnd, _ := readLong(w.body, header)
	oldHeader := data - header
	size := len(w.out) - at - oldHeader
	var buf [20]byte
	newHeader := appendLong(append(buf[:0], w.body[header:countEnd]...), int64(size))
	w.out = slices.Replace(w.out, at, at+oldHeader, newHeader...)
}

// replace calls fn for the value of schema s at body[pos:] and records
// its replacement.
func (w *walker) replace(s avro.Schema, pos int, path fieldpath.Path, depth int) (int, error) {
	end, err := skip(w.body, s, pos, depth)
	if err != nil {
		return end, err
	}
	s = deref(s)
	at := path.String()
	repl, err := w.fn(at, s, w.body[pos:end:end])
	if err != nil {
		return end, fmt.Errorf("avrofield: %s: %w", at, err)
	}
	if n, err := skip(repl, s, 0, 0); err != nil || n != len(repl) {
		return end, fmt.Errorf("avrofield: %s: replacement is not one %s value", at, s.Type())
	}
	if w.out == nil {
		w.out = make([]byte, 0, len(w.body)+len(repl)+16)
	}
	w.out = append(w.out, w.body[w.copied:pos]...)
	w.out = append(w.out, repl...)
	w.copied = end
	w.called = true
	return end, nil
}
