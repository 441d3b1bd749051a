package interceptor

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Action is what a policy does when a request breaks one of its rules.
type Action string

// The actions of the policy vocabulary.
const (
	// Block refuses the request with a Kafka error the client understands.
	Block Action = "BLOCK"
	// Info lets the request through and reports it.
	Info Action = "INFO"
	// Override rewrites the offending value and reports it.
	Override Action = "OVERRIDE"
	// Throttle delays the request and reports it.
	Throttle Action = "THROTTLE"
	// Audited only records the request (AuditPlugin); it is not a policy
	// action a config can choose.
	Audited Action = "AUDIT"
	// EncryptFailed and DecryptFailed report records an encryption
	// interceptor could not encrypt or decrypt; like Audited, they are not
	// actions a config can choose.
	EncryptFailed Action = "ENCRYPT_FAILED"
	DecryptFailed Action = "DECRYPT_FAILED"
)

// UnmarshalJSON accepts the four actions in any letter case.
func (a *Action) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expect one of BLOCK, INFO, OVERRIDE, THROTTLE")
	}
	switch v := Action(strings.ToUpper(s)); v {
	case Block, Info, Override, Throttle:
		*a = v
		return nil
	}
	return fmt.Errorf("expect one of BLOCK, INFO, OVERRIDE, THROTTLE, got %q", s)
}

// Schema describes the action in JSON Schema.
func (Action) Schema() map[string]any {
	return map[string]any{"type": "string", "enum": []string{"BLOCK", "INFO", "OVERRIDE", "THROTTLE"}}
}

// Or returns a, or def when a is not set.
func (a Action) Or(def Action) Action {
	if a == "" {
		return def
	}
	return a
}

// CheckAction reports an error naming field when a (defaulted to BLOCK)
// is not one of allowed.
func CheckAction(field string, a Action, allowed ...Action) error {
	if slices.Contains(allowed, a.Or(Block)) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, x := range allowed {
		names[i] = string(x)
	}
	return Invalid(field, "action %s is not supported here; expect %s", a, strings.Join(names, ", "))
}

// Pattern is a regular expression that must match a whole value, as
// Java's String.matches does in the configs users bring from other
// gateways.
type Pattern struct {
	re *regexp.Regexp
}

// MustPattern compiles a pattern and panics on a bad one; for defaults.
func MustPattern(expr string) Pattern {
	return Pattern{re: regexp.MustCompile(`^(?:` + expr + `)$`)}
}

// UnmarshalJSON compiles the expression.
func (p *Pattern) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expect a regular expression string")
	}
	re, err := regexp.Compile(`^(?:` + s + `)$`)
	if err != nil {
		return fmt.Errorf("invalid regular expression %q: %v", s, err)
	}
	p.re = re
	return nil
}

// Schema describes a pattern in JSON Schema.
func (Pattern) Schema() map[string]any {
	return map[string]any{"type": "string", "format": "regex"}
}

// Set reports whether the pattern was configured.
func (p Pattern) Set() bool { return p.re != nil }

// Matches reports whether s matches the whole pattern; an unset pattern
// matches everything.
func (p Pattern) Matches(s string) bool { return p.re == nil || p.re.MatchString(s) }

// String returns the expression as configured.
func (p Pattern) String() string {
	if p.re == nil {
		return ""
	}
	s := p.re.String()
	return s[len(`^(?:`) : len(s)-len(`)$`)]
}

// Range bounds a number: {min, max, action, overrideValue}.
type Range struct {
	Min           *float64 `json:"min"`
	Max           *float64 `json:"max"`
	Action        Action   `json:"action"`
	OverrideValue *float64 `json:"overrideValue"`
}

// UnmarshalJSON decodes strictly and checks that the bounds make sense.
func (r *Range) UnmarshalJSON(b []byte) error {
	type plain Range
	var p plain
	if err := decodeValue("", b, reflect.ValueOf(&p).Elem()); err != nil {
		return err
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		return fmt.Errorf("min %v is above max %v", *p.Min, *p.Max)
	}
	if p.Action.Or(Block) == Override {
		if p.OverrideValue == nil {
			return Invalid("overrideValue", "is required with action OVERRIDE")
		}
		if !(*Range)(&p).Allows(*p.OverrideValue) {
			return Invalid("overrideValue", "%v is outside [min, max]", *p.OverrideValue)
		}
	}
	*r = Range(p)
	return nil
}

// Allows reports whether v is within the bounds.
func (r *Range) Allows(v float64) bool {
	return (r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max)
}

// Bounds describes the range for messages.
func (r *Range) Bounds() string {
	switch {
	case r.Min != nil && r.Max != nil:
		return fmt.Sprintf("between %v and %v", *r.Min, *r.Max)
	case r.Min != nil:
		return fmt.Sprintf("at least %v", *r.Min)
	case r.Max != nil:
		return fmt.Sprintf("at most %v", *r.Max)
	}
	return "any value"
}

// Regex requires a value to match: {value, action}.
type Regex struct {
	Value  Pattern `json:"value"`
	Action Action  `json:"action"`
}

// Flag requires a boolean value: {value, action}.
type Flag struct {
	Value  bool   `json:"value"`
	Action Action `json:"action"`
}

// OneOf requires a value from a set: {values, action, overrideValue}.
type OneOf struct {
	Values        []string `json:"values"`
	Action        Action   `json:"action"`
	OverrideValue string   `json:"overrideValue"`
}

// UnmarshalJSON decodes strictly and checks the override value.
func (o *OneOf) UnmarshalJSON(b []byte) error {
	type plain OneOf
	var p plain
	if err := decodeValue("", b, reflect.ValueOf(&p).Elem()); err != nil {
		return err
	}
	if len(p.Values) == 0 {
		return Invalid("values", "is required")
	}
	if p.Action.Or(Block) == Override && !slices.Contains(p.Values, p.OverrideValue) {
		return Invalid("overrideValue", "%q is not one of values", p.OverrideValue)
	}
	*o = OneOf(p)
	return nil
}

// Allows reports whether v is one of the values, ignoring letter case.
func (o *OneOf) Allows(v string) bool {
	return slices.ContainsFunc(o.Values, func(x string) bool { return strings.EqualFold(x, v) })
}

// Denied lists forbidden values: {values, action}.
type Denied struct {
	Values []string `json:"values"`
	Action Action   `json:"action"`
}

// Denies reports whether v is listed.
func (d *Denied) Denies(v string) bool { return slices.Contains(d.Values, v) }
