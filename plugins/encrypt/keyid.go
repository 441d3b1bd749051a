package encrypt

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/encryption/fields"
	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
)

// recordVars fills keySecretId templates from one clear record.
type recordVars struct {
	ctx   context.Context
	codec *fields.Codec
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
		return v.valueField(p)
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

// valueField returns the text of the first field of the clear value at p.
func (v recordVars) valueField(p fieldpath.Path) (string, error) {
	var text string
	var found bool
	_, err := v.codec.Replace(v.ctx, v.r.Value, p, func(_ string, f fields.Field) ([]byte, error) {
		if !found {
			s, err := f.Scalar()
			if err != nil {
				return nil, err
			}
			text, found = s, true
		}
		return f.Raw, nil
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("{{record.value.%s}}: %w", p, err)
	case !found:
		return "", fmt.Errorf("{{record.value.%s}}: the value has no such field", p)
	}
	return text, nil
}
