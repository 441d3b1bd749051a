package encrypt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
)

// recordVars fills keySecretId templates from one clear record.
type recordVars struct {
	topic string
	r     *kmsg.Record
}

// safeValue is what a template may put into a key id: a record cannot
// steer its key to another KMS path with slashes or dots.
var safeValue = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$`)

// keyID renders a keySecretId template for the record.
func (v recordVars) keyID(t interceptor.Template) (string, error) {
	var first error
	id := t.Render(func(name string) string {
		s, err := v.lookup(name)
		if err == nil && (!safeValue.MatchString(s) || strings.Contains(s, "..")) {
			err = fmt.Errorf("{{%s}} is %q: a key id part must be 1 to 200 letters, digits, '_', '-' or '.'", name, s)
		}
		if err != nil && first == nil {
			first = err
		}
		return s
	})
	if first != nil {
		return "", fmt.Errorf("keySecretId: %w", first)
	}
	return id, nil
}

// lookup returns one template variable of the record.
func (v recordVars) lookup(name string) (string, error) {
	switch {
	case name == "record.topic":
		return v.topic, nil
	case name == "record.key":
		if v.r.Key == nil {
			return "", errors.New("{{record.key}}: the record has no key")
		}
		return string(v.r.Key), nil
	case strings.HasPrefix(name, "record.header."):
		h := strings.TrimPrefix(name, "record.header.")
		for _, x := range v.r.Headers {
			if x.Key == h && x.Value != nil {
				return string(x.Value), nil
			}
		}
		return "", fmt.Errorf("{{%s}}: the record has no header %q", name, h)
	case strings.HasPrefix(name, "record.value."):
		p, err := parseValuePath(name)
		if err != nil {
			return "", err
		}
		return valueField(v.r.Value, p)
	}
	return "", fmt.Errorf("{{%s}}: unknown variable", name)
}

// parseValuePath parses the field path of a record.value.<path> variable.
func parseValuePath(name string) (fieldpath.Path, error) {
	p, err := fieldpath.Parse(strings.TrimPrefix(name, "record.value."))
	if err != nil {
		return nil, fmt.Errorf("{{%s}}: %w", name, err)
	}
	return p, nil
}
