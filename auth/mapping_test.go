package auth

import (
	"fmt"
	"strings"
	"testing"
)

// describe renders parsed rules as "RULE:pattern/replacement/flag", with
// replacement groups as $n, to check how a spec was split.
func describe(m *MappingRules) []string {
	var out []string
	for _, r := range m.rules {
		if r.isDefault {
			out = append(out, "DEFAULT")
			continue
		}
		pattern := strings.TrimSuffix(strings.TrimPrefix(r.pattern.String(), "^(?:"), ")$")
		var repl strings.Builder
		for _, p := range r.replacement {
			if p.literal != "" {
				repl.WriteString(p.literal)
			} else {
				fmt.Fprintf(&repl, "$%d", p.group)
			}
		}
		flag := ""
		if r.flag != 0 {
			flag = string(r.flag)
		}
		out = append(out, "RULE:"+pattern+"/"+repl.String()+"/"+flag)
	}
	return out
}

// TestMappingRulesSplitting follows Kafka's SslPrincipalMapperTest: commas
// inside patterns and replacements, whitespace, empty entries, escapes.
func TestMappingRulesSplitting(t *testing.T) {
	tests := []struct {
		spec string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"DEFAULT", []string{"DEFAULT"}},
		{"RULE://", []string{"RULE://"}},
		{"RULE:/.*/", []string{"RULE:/.*/"}},
		{"RULE:/.*/L", []string{"RULE:/.*/L"}},
		{"RULE://,DEFAULT", []string{"RULE://", "DEFAULT"}},
		{"  RULE:// ,  DEFAULT  ", []string{"RULE://", "DEFAULT"}},
		{"  RULE:   /     / ,  DEFAULT  ", []string{"RULE:   /     /", "DEFAULT"}},
		{"  RULE:  /     /U   ,DEFAULT  ", []string{"RULE:  /     /U", "DEFAULT"}},
		{"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ", []string{"RULE:([A-Z]*)/$1/U", "RULE:([a-z]+)/$1/", "DEFAULT"}},
		{",,RULE://,,,DEFAULT,,", []string{"RULE://", "DEFAULT"}},
		{",  , RULE: /   /    ,,,   DEFAULT, ,   ", []string{"RULE: /   /", "DEFAULT"}},
		{"     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,", []string{"RULE:   /  /U", "DEFAULT"}},
		{`RULE:\/\\\(\)\n\t/\/\//`, []string{`RULE:\/\\\(\)\n\t////`}},
		{`RULE:\**\/+/*/L,RULE:\/*\**/**/`, []string{`RULE:\**\/+/*/L`, `RULE:\/*\**/**/`}},
		{
			`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`,
			[]string{"RULE:,RULE:,/,RULE:,//U", "RULE:,/RULE:,/", "RULE:,RULE:,/L,RULE:,/L", "RULE:, DEFAULT, /DEFAULT/", "DEFAULT"},
		},
		{"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/", []string{"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/"}},
		{"RULE:(a)(b)(c)/$3$2$1$0/", []string{"RULE:(a)(b)(c)/$3$2$1$0/"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			m, err := ParseMappingRules(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(m); strings.Join(got, " | ") != strings.Join(tt.want, " | ") {
				t.Fatalf("rules = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMappingRulesInvalid(t *testing.T) {
	tests := []struct {
		spec string
		err  string
	}{
		// Kafka's invalid rules.
		{"default", "want RULE"},
		{"DEFAUL", "want RULE"},
		{"DEFAULT/L", "unexpected text"},
		{"DEFAULT/U", "unexpected text"},
		{"RULE:CN=(.*?),OU=ServiceUsers.*/$1", "replacement is not closed"},
		{"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/", "want RULE"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U", "unexpected text"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/L", "replacement is not closed"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/U", "replacement is not closed"},
		{"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU", "replacement is not closed"},
		// Ours.
		{"DEFAULT DEFAULT", "unexpected text"},
		{"RULE:abc", "pattern is not closed"},
		{`RULE:abc\/`, "pattern is not closed"},
		{"RULE:a/b/x", "unexpected text"},
		{"DEFAULT,RULE:a/b/x", "mapping rule 2"},
		{", , ,", "no rule"},
		{"RULE:a)|(b/x/", "pattern"},
		{"RULE:(?=CN).*/x/", "pattern"},    // lookahead: not in RE2
		{`RULE:(a)\1/x/`, "pattern"},       // backreference: not in RE2
		{"RULE:[a-z&&[^b]]/x/", ""},        // RE2 reads && literally; accepted
		{"RULE:(a)/$x/", `"$" must start`}, // Java refuses it too
		{"RULE:(a)/$/", `"$" must start`},
		{"RULE:(a)/${nope}/", "names no group"},
		{"RULE:(?P<user>a)/${user/", "names no group"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := ParseMappingRules(tt.spec)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "auth: ") {
				t.Fatalf("err = %v, want it to mention %q", err, tt.err)
			}
		})
	}
}

func TestMappingRulesApply(t *testing.T) {
	// The example of Kafka's documentation for ssl.principal.mapping.rules.
	docs := `RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT`
	// The rules of Kafka's SslPrincipalMapperTest.
	kafkaTest := strings.Join([]string{
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
		"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
		"DEFAULT",
	}, ", ")
	tests := []struct {
		rules string
		dn    string
		want  string
		err   string
	}{
		{docs, "CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown", "serviceuser", ""},
		{docs, "CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown", "adminuser@admin", ""},
		{docs, "OU=x,cN=Build.Box,O=y", "build.box", ""},
		{docs, "O=NoName,C=US", "O=NoName,C=US", ""},
		{kafkaTest, "CN=Duke,OU=ServiceUsers,O=Org,C=US", "duke", ""},
		{kafkaTest, "CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme", ""},
		{kafkaTest, "cn=duke,ou=sme,dc=mycp,dc=com", "DUKE@SME", ""},
		{kafkaTest, "cN=duke,OU=JavaSoft,O=Sun Microsystems", "DUKE", ""},
		{kafkaTest, "OU=JavaSoft,O=Sun Microsystems,C=US", "OU=JavaSoft,O=Sun Microsystems,C=US", ""},
		// Kafka's testCommaWithWhitespace.
		{`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`, `CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`, `Tkac\, Adam`, ""},
		// The pattern must match the whole DN, even where a shorter
		// alternative matches first.
		{"RULE:CN=a|CN=ab/$0!/", "CN=ab", "CN=ab!", ""},
		{"RULE:CN=a/x/", "CN=ab", "", "no mapping rule matches"},
		// Replacement syntax.
		{"RULE:CN=(\\w+),O=(\\w+)/$2.$1/", "CN=bob,O=acme", "acme.bob", ""},
		{"RULE:CN=(\\w+)/$1$2/", "CN=bob", "bob$2", ""}, // no group 2: literal
		{"RULE:CN=(\\w+)/$12/", "CN=bob", "bob2", ""},   // $1 then "2"
		{"RULE:CN=(\\w)(\\w)(\\w)(\\w)(\\w)(\\w)(\\w)(\\w)(\\w)(\\w)(\\w)(\\w)/$12$1/", "CN=abcdefghijkl", "la", ""},
		{"RULE:CN=(\\w+)/\\$1=$1/", "CN=bob", "$1=bob", ""},
		{"RULE:CN=.*/$1/", "CN=bob", "$1", ""}, // Java would throw
		{"RULE:CN=(?P<user>\\w+)/${user}@x/", "CN=bob", "bob@x", ""},
		{"RULE:CN=(\\w+)(,.*)?/$1$2/U", "CN=bob", "BOB", ""}, // unmatched group: empty
		{"RULE:CN=(.*)/$1/", "CN=", "", "empty name"},
		// The product default: the CN.
		{"", "CN=alice,OU=eng,O=Acme,C=US", "alice", ""},
		{"", "OU=eng,CN=alice,CN=bob", "alice", ""},
		{"", "CN=,O=x", "", "empty CN"},
		{"", "O=x", "", "no CN"},
	}
	for _, tt := range tests {
		t.Run(tt.dn+" "+tt.rules, func(t *testing.T) {
			m, err := ParseMappingRules(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Apply(tt.dn)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %q, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzParseMappingRules checks that parsing never panics, that applying
// parsed rules never panics, and that what DEFAULT rules return is the DN.
func FuzzParseMappingRules(f *testing.F) {
	f.Add(`RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT`, "CN=a,OU=b,O=c,L=d,ST=e,C=f")
	f.Add(`RULE:,RULE:,/,RULE:,\//U,DEFAULT`, ",RULE:,")
	f.Add(`RULE:(?P<n>.)(.)/${n}$2$21\$/U`, "ab")
	f.Add(`RULE:\\/\\/`, `\`)
	f.Add("", `CN=a\,b`)
	f.Fuzz(func(t *testing.T, spec, dn string) {
		m, err := ParseMappingRules(spec)
		if err != nil {
			return
		}
		name, err := m.Apply(dn)
		if err == nil && name == "" {
			t.Fatal("mapped to an empty name without error")
		}
		if len(m.rules) > 0 && m.rules[0].isDefault && err == nil && name != dn {
			t.Fatalf("DEFAULT mapped %q to %q", dn, name)
		}
	})
}
