package interceptor

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Template is a string with {{variable}} placeholders, filled per record
// or request. It is parsed once, when the config is loaded.
type Template struct {
	parts []string // literal, variable, literal, variable, ..., literal
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.\[\]-]+)\s*\}\}`)

// ParseTemplate parses a template.
func ParseTemplate(s string) (Template, error) {
	if strings.Count(s, "{{") != len(placeholder.FindAllStringIndex(s, -1)) {
		return Template{}, fmt.Errorf("malformed placeholder in %q; expect {{name}}", s)
	}
	var t Template
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(s, -1) {
		t.parts = append(t.parts, s[last:m[0]], s[m[2]:m[3]])
		last = m[1]
	}
	t.parts = append(t.parts, s[last:])
	return t, nil
}

// UnmarshalJSON parses a template from a JSON string.
func (t *Template) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expect a string")
	}
	p, err := ParseTemplate(s)
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// Schema describes a template in JSON Schema.
func (Template) Schema() map[string]any {
	return map[string]any{"type": "string", "description": "may contain {{variable}} placeholders"}
}

// Vars lists the template's variables.
func (t Template) Vars() []string {
	var vs []string
	for i := 1; i < len(t.parts); i += 2 {
		vs = append(vs, t.parts[i])
	}
	return vs
}

// CheckVars reports an error naming field when the template uses a
// variable outside allowed.
func (t Template) CheckVars(field string, allowed []string) error {
	for _, v := range t.Vars() {
		if !slices.Contains(allowed, v) {
			return Invalid(field, "unknown template variable {{%s}}; expect one of %s", v, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// Render fills the placeholders with lookup's values.
func (t Template) Render(lookup func(name string) string) string {
	if len(t.parts) == 1 {
		return t.parts[0]
	}
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(lookup(p))
		}
	}
	return b.String()
}

// CallVars are the variables a call fills in templates.
var CallVars = []string{"uuid", "userIp", "vcluster", "user", "clientId", "gatewayIp", "gatewayHost",
	"gatewayVersion", "apiKey", "apiKeyVersion", "timestampMillis"}

// Var returns the value of one of CallVars for this call.
func (c *Call) Var(name string) string {
	switch name {
	case "uuid":
		return rand.Text()
	case "userIp":
		return c.Conn.ClientIP
	case "vcluster":
		return c.Conn.VCluster
	case "user":
		return c.Conn.Username
	case "clientId":
		if c.ClientID == nil {
			return ""
		}
		return *c.ClientID
	case "gatewayIp":
		host, _, _ := net.SplitHostPort(c.Conn.GatewayAddr)
		return host
	case "gatewayHost":
		return c.chain.node.Host
	case "gatewayVersion":
		return c.chain.node.Version
	case "apiKey":
		return kmsg.NameForKey(c.Key)
	case "apiKeyVersion":
		return strconv.Itoa(int(c.Version))
	case "timestampMillis":
		return strconv.FormatInt(c.Start.UnixMilli(), 10)
	}
	return ""
}
