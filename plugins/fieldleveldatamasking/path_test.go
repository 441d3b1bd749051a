package fieldleveldatamasking

import (
	"reflect"
	"testing"
)

func TestParsePath(t *testing.T) {
	for _, c := range []struct {
		in   string
		want path
		bad  bool
	}{
		{in: "a", want: path{{name: "a"}}},
		{in: "a.b", want: path{{name: "a"}, {name: "b"}}},
		{in: "a[0].b", want: path{{name: "a"}, {index: 0}, {name: "b"}}},
		{in: "a[*].b", want: path{{name: "a"}, {index: -1}, {name: "b"}}},
		{in: "a[12][*]", want: path{{name: "a"}, {index: 12}, {index: -1}}},
		{in: "[*].name", want: path{{index: -1}, {name: "name"}}},
		{in: "user_id", want: path{{name: "user_id"}}},
		{in: "", bad: true},
		{in: "a.", bad: true},
		{in: ".a", bad: true},
		{in: "a..b", bad: true},
		{in: "a[", bad: true},
		{in: "a[x]", bad: true},
		{in: "a[-1]", bad: true},
		{in: "a[+1]", bad: true},
		{in: "a]b", bad: true},
		{in: "a[0]b", bad: true},
		{in: "a.[0]", bad: true},
	} {
		got, err := parsePath(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q parsed as %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

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
