package backing

import (
	"fmt"
	"strings"
)

// ParseJAAS reads the options of a single-module JAAS configuration as Kafka
// clients write it, for example
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
//
// Values may be double-quoted (with backslash escapes) or bare words.
func ParseJAAS(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("backing: KAFKA_SASL_JAAS_CONFIG is empty")
	}
	fields := strings.Fields(s)
	if len(fields) < 2 {
		return nil, fmt.Errorf("backing: KAFKA_SASL_JAAS_CONFIG: expect \"<LoginModule> required key=value ...;\"")
	}
	switch strings.ToLower(fields[1]) {
	case "required", "requisite", "sufficient", "optional":
	default:
		return nil, fmt.Errorf("backing: KAFKA_SASL_JAAS_CONFIG: unexpected control flag %q", fields[1])
	}
	// Skip the module name and the flag, then scan key=value pairs.
	rest := strings.TrimSpace(s)
	for range 2 {
		rest = strings.TrimSpace(rest[strings.IndexFunc(rest, isSpace):])
	}
	opts := make(map[string]string)
	for {
		rest = strings.TrimLeft(rest, " \t\r\n")
		if rest == "" || rest == ";" {
			return opts, nil
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("backing: KAFKA_SASL_JAAS_CONFIG: expect key=value at character %d", len(s)-len(rest)+1)
		}
		key := strings.TrimSpace(rest[:eq])
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return nil, fmt.Errorf("backing: KAFKA_SASL_JAAS_CONFIG: unterminated quote for %q", key)
			}
			val, rest = b.String(), rest[i+1:]
		} else {
			end := strings.IndexFunc(rest, func(r rune) bool { return isSpace(r) || r == ';' })
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		opts[key] = val
	}
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }
