package fieldleveldatamasking

import (
	"testing"
)

func TestRule(t *testing.T) {
	for _, c := range []struct {
		r        rule
		in, want string
	}{
		{rule{kind: maskAll, char: '*'}, "secret", "******"},
		{rule{kind: maskAll, char: '#'}, "", ""},
		{rule{kind: maskAll, char: 'x'}, "héllo wörld", "xxxxxxxxxxx"},
		{rule{kind: maskFirstN, char: '*', n: 2}, "secret", "**cret"},
		{rule{kind: maskFirstN, char: '*', n: 9}, "secret", "******"},
		{rule{kind: maskLastN, char: '*', n: 4}, "4111111111111111", "411111111111****"},
		{rule{kind: maskLastN, char: '•', n: 3}, "añoü", "a•••"},
		{rule{kind: maskLastN, char: '*', n: 10}, "abc", "***"},
		{rule{kind: maskFirstN, char: '✱', n: 1}, "日本", "✱本"},
	} {
		if got := c.r.apply(c.in); got != c.want {
			t.Errorf("%v(%q) = %q, want %q", c.r, c.in, got, c.want)
		}
	}
}
