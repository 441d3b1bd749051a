package encrypt

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/strait-gateway/strait/fieldpath"
)

// valueField returns the text of a field of a JSON value, for templates.
func valueField(value []byte, p fieldpath.Path) (string, error) {
	d := json.NewDecoder(bytes.NewReader(value))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("{{record.value.%s}}: the value is not JSON", p)
	}
	for _, s := range p {
		switch x := v.(type) {
		case map[string]any:
			v = x[s.Name]
		case []any:
			if s.Name != "" || s.Index < 0 || s.Index >= len(x) {
				v = nil
			} else {
				v = x[s.Index]
			}
		default:
			v = nil
		}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("{{record.value.%s}}: the value has no text or number there", p)
}
