package fieldpath

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Path
		bad  bool
	}{
		{in: "a", want: Path{{Name: "a"}}},
		{in: "a.b", want: Path{{Name: "a"}, {Name: "b"}}},
		{in: "a[0].b", want: Path{{Name: "a"}, {Index: 0}, {Name: "b"}}},
		{in: "a[*].b", want: Path{{Name: "a"}, {Index: All}, {Name: "b"}}},
		{in: "a[12][*]", want: Path{{Name: "a"}, {Index: 12}, {Index: All}}},
		{in: "[*].name", want: Path{{Index: All}, {Name: "name"}}},
		{in: "user_id", want: Path{{Name: "user_id"}}},
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
		got, err := Parse(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q parsed as %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %v, %v; want %v", c.in, got, err, c.want)
		}
		if s := got.String(); s != c.in {
			t.Errorf("%q printed back as %q", c.in, s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a", "a.b[0]", "[*].x", "a[", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(p.String())
		if err != nil || !reflect.DeepEqual(p, again) {
			t.Fatalf("%q → %v → %q → %v, %v", s, p, p.String(), again, err)
		}
	})
}
