package auth

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MappingRules turn the distinguished name of a TLS client certificate into
// a username, with the syntax of Kafka's ssl.principal.mapping.rules.
//
// A spec is a list of rules separated by commas (and optional whitespace):
//
//	RULE:pattern/replacement/[L|U]
//	DEFAULT
//
// A '/' inside a pattern or replacement is written "\/"; commas need no
// escaping, because a rule ends at its closing '/' and flag. Empty entries
// are ignored. The first rule whose pattern matches the whole DN wins: its
// replacement, with $1 (and ${name}) naming the pattern's groups, becomes
// the username, lowercased with L or uppercased with U. DEFAULT yields the
// DN unchanged. When no rule matches, Apply fails.
//
// Patterns are Go (RE2) regular expressions, not Java ones. Backreferences
// (\1), lookaround, possessive quantifiers and atomic groups do not exist
// in RE2, and patterns using them are refused when the rules are parsed.
// Java's class intersection ([a-z&&[^b]]) is not refused but means
// something else to RE2: write the class out instead. The rest of what
// mapping rules use (groups, lazy quantifiers, classes, anchors, (?i))
// behaves the same, except that Java's '.' also stops at '\r' and the
// Unicode line separators. In replacements, as in Java, "\x" is a literal x
// and "$" must start a group reference; unlike Java, a reference to a group
// the pattern does not have is kept as literal text (Kafka's behaviour for
// patterns with groups, extended to those without).
//
// An empty spec maps a DN to its CN, unlike Kafka, whose default is the
// whole DN.
type MappingRules struct {
	rules []mappingRule // empty: take the CN
}

// mappingRule is one parsed rule.
type mappingRule struct {
	isDefault   bool
	pattern     *regexp.Regexp // anchored at both ends
	replacement []replacementPart
	flag        byte // 0, 'L' or 'U'
}

// replacementPart is literal text or, when literal is "", the text of
// pattern group number group (0 is the whole match).
type replacementPart struct {
	literal string
	group   int
}

// ParseMappingRules parses an ssl.principal.mapping.rules spec.
func ParseMappingRules(spec string) (*MappingRules, error) {
	m := &MappingRules{}
	s := strings.Trim(spec, javaSpace)
	if s == "" {
		return m, nil
	}
	for s != "" {
		s = strings.TrimLeft(s, javaSpace)
		var rule mappingRule
		var err error
		switch {
		case strings.HasPrefix(s, ","):
			s = s[1:] // an empty entry
			continue
		case strings.HasPrefix(s, "DEFAULT"):
			rule.isDefault, s = true, s[len("DEFAULT"):]
		case strings.HasPrefix(s, "RULE:"):
			if rule, s, err = parseRule(s[len("RULE:"):]); err != nil {
				return nil, fmt.Errorf("auth: mapping rule %d: %w", len(m.rules)+1, err)
			}
		default:
			return nil, fmt.Errorf("auth: mapping rule %d: want RULE:pattern/replacement/[LU] or DEFAULT", len(m.rules)+1)
		}
		m.rules = append(m.rules, rule)
		s = strings.TrimLeft(s, javaSpace)
		if s != "" && s[0] != ',' {
			return nil, fmt.Errorf("auth: mapping rule %d: unexpected text after the rule", len(m.rules))
		}
	}
	if len(m.rules) == 0 {
		return nil, errors.New("auth: mapping rules: no rule in a non-empty spec")
	}
	return m, nil
}

// javaSpace is the whitespace of Java's \s, which Kafka's rule splitter
// skips.
const javaSpace = " \t\n\v\f\r"

// parseRule parses "pattern/replacement/[LU]" and returns the rest of s.
func parseRule(s string) (mappingRule, string, error) {
	pattern, s, ok := cutUnescaped(s)
	if !ok {
		return mappingRule{}, "", errors.New("pattern is not closed with '/'")
	}
	replacement, s, ok := cutUnescaped(s)
	if !ok {
		return mappingRule{}, "", errors.New("replacement is not closed with '/'")
	}
	// Compiled alone first, so that a pattern like "a)|(b" cannot escape
	// the anchoring group.
	if _, err := regexp.Compile(pattern); err != nil {
		return mappingRule{}, "", fmt.Errorf("pattern: %w", err)
	}
	rule := mappingRule{pattern: regexp.MustCompile(`^(?:` + pattern + `)$`)}
	var err error
	if rule.replacement, err = parseReplacement(replacement, rule.pattern); err != nil {
		return mappingRule{}, "", fmt.Errorf("replacement: %w", err)
	}
	if s != "" && (s[0] == 'L' || s[0] == 'U') {
		rule.flag, s = s[0], s[1:]
	}
	return rule, s, nil
}

// cutUnescaped cuts s at its first '/' not escaped by a backslash; escapes
// stay in the text for the regexp or replacement to interpret.
func cutUnescaped(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '/':
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// parseReplacement parses a Java-style replacement against pattern's
// groups: "\x" is x, "${name}" a named group, "$" and digits a numbered
// group, taking as many digits as still name an existing group.
func parseReplacement(s string, pattern *regexp.Regexp) ([]replacementPart, error) {
	var parts []replacementPart
	var lit strings.Builder
	group := func(g int) {
		if lit.Len() > 0 {
			parts = append(parts, replacementPart{literal: lit.String()})
			lit.Reset()
		}
		parts = append(parts, replacementPart{group: g})
	}
	groups := pattern.NumSubexp()
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\': // cutUnescaped leaves a character after every backslash
			i++
			lit.WriteByte(s[i])
		case c != '$':
			lit.WriteByte(c)
		case i+1 < len(s) && s[i+1] == '{':
			name, _, ok := strings.Cut(s[i+2:], "}")
			g := pattern.SubexpIndex(name)
			if !ok || g < 0 {
				return nil, errors.New("${...} names no group of the pattern")
			}
			group(g)
			i += len("${}") + len(name) - 1
		case i+1 < len(s) && isDigit(s[i+1]) && int(s[i+1]-'0') <= groups:
			g, j := int(s[i+1]-'0'), i+2
			for ; j < len(s) && isDigit(s[j]) && g*10+int(s[j]-'0') <= groups; j++ {
				g = g*10 + int(s[j]-'0')
			}
			group(g)
			i = j - 1
		case i+1 < len(s) && isDigit(s[i+1]):
			lit.WriteByte(c) // no such group: Kafka keeps "$4" as text
		default:
			return nil, errors.New(`"$" must start a group reference; write "\$" for a dollar sign`)
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, replacementPart{literal: lit.String()})
	}
	return parts, nil
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// Apply returns the username for a certificate subject DN (as SubjectDN
// formats it): the result of the first rule that matches, or, without
// rules, the DN's first (most specific) CN. An empty result is an error.
func (m *MappingRules) Apply(dn string) (string, error) {
	if len(m.rules) == 0 {
		cn, err := commonName(dn)
		if err == nil && cn == "" {
			err = errors.New("auth: certificate subject has an empty CN")
		}
		return cn, err
	}
	for i, r := range m.rules {
		name, ok := r.apply(dn)
		if !ok {
			continue
		}
		if name == "" {
			return "", fmt.Errorf("auth: mapping rule %d maps %q to an empty name", i+1, dn)
		}
		return name, nil
	}
	return "", fmt.Errorf("auth: no mapping rule matches %q", dn)
}

// apply returns the rule's result for dn, or false when it does not match.
func (r mappingRule) apply(dn string) (string, bool) {
	if r.isDefault {
		return dn, true
	}
	match := r.pattern.FindStringSubmatchIndex(dn)
	if match == nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range r.replacement {
		if p.literal != "" {
			b.WriteString(p.literal)
		} else if start := match[2*p.group]; start >= 0 {
			b.WriteString(dn[start:match[2*p.group+1]])
		}
	}
	switch r.flag {
	case 'L':
		return strings.ToLower(b.String()), true
	case 'U':
		return strings.ToUpper(b.String()), true
	}
	return b.String(), true
}
