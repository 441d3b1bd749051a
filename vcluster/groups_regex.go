package vcluster

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// Tenants may choose topics and transactional ids by regular expression,
// which the broker evaluates (RE2 syntax) against whole physical names. A
// tenant's pattern R travels as the quoted prefix followed by (?:R), which
// matches a physical name exactly when R matches the logical part of it.
// The prefix is escaped with QuoteMeta rather than \Q...\E, so nothing
// depends on the broker's regexp engine supporting quoting.

// gAnchor returns the physical form of a tenant's pattern. ok is false when
// the pattern does not parse: wrapped, an unbalanced pattern could close the
// group early and match names outside the space.
func gAnchor(s *Space, pattern string) (string, bool) {
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		return "", false
	}
	return gAnchorStart(s) + pattern + ")", true
}

// gUnanchor returns the tenant's pattern inside one gAnchor made; ok is
// false for any other pattern.
func gUnanchor(s *Space, anchored string) (string, bool) {
	inner, ok := strings.CutPrefix(anchored, gAnchorStart(s))
	if !ok {
		return "", false
	}
	return strings.CutSuffix(inner, ")")
}

// gAnchorStart is how every anchored pattern of the space begins.
func gAnchorStart(s *Space) string {
	return regexp.QuoteMeta(s.prefix) + "(?:"
}
