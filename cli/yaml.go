package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The node stores a document as the compacted JSON it was sent, and a PUT
// is NOT_CHANGED only when the bytes are equal. So both conversions keep
// what was written: mapping keys in their order and numbers as their
// literals, not re-encoded through Go maps and floats.

// toJSON appends the JSON form of a YAML node to buf.
func toJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		return toJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return toJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		seen := map[string]bool{}
		for i := 0; i < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			if key.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a mapping key must be a plain string", key.Line)
			}
			if seen[key.Value] {
				return fmt.Errorf("line %d: key %q appears twice in the same mapping", key.Line, key.Value)
			}
			seen[key.Value] = true
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, key.Value)
			buf.WriteByte(':')
			if err := toJSON(buf, value); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := toJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		return scalarToJSON(buf, n)
	}
	return nil
}

func scalarToJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!null":
		buf.WriteString("null")
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.WriteString(strconv.FormatBool(b))
	case "!!int", "!!float":
		if json.Valid([]byte(n.Value)) {
			buf.WriteString(n.Value) // as written: 1.0 stays 1.0
			return nil
		}
		var v any // YAML-only spellings such as 0x1F or 1_000
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %s has no JSON form", n.Line, n.Value)
		}
		buf.Write(b)
	default: // strings, and timestamps and other tags as the text written
		writeString(buf, n.Value)
	}
	return nil
}

// writeString appends s as a JSON string, leaving <, > and & unescaped as
// a user writing JSON by hand would.
func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}

// writeYAML writes JSON documents as a YAML stream, "---" between them.
func writeYAML(w io.Writer, docs []json.RawMessage) error {
	if len(docs) == 0 {
		return nil // an encoder closed unused fails
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, doc := range docs {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		n, err := jsonToNode(dec)
		if err != nil {
			return fmt.Errorf("cli: a document from the admin API is not JSON: %w", err)
		}
		if err := enc.Encode(n); err != nil {
			return fmt.Errorf("cli: writing YAML: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("cli: writing YAML: %w", err)
	}
	return nil
}

// jsonToNode reads one JSON value from dec (which uses json.Number) as a
// YAML node in block style.
func jsonToNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if t == '[' {
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, scalar("!!str", key.(string))) // object keys are strings
			}
			child, err := jsonToNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, child)
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return scalar("!!str", t), nil
	case json.Number:
		if strings.ContainsAny(t.String(), ".eE") {
			return scalar("!!float", t.String()), nil
		}
		return scalar("!!int", t.String()), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(t)), nil
	default:
		return scalar("!!null", "null"), nil
	}
}
