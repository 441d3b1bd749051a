// Package fieldleveldatamasking is the FieldLevelDataMasking interceptor:
// it hides parts of record values from consumers. On Fetch responses of
// the topics it applies to, it decodes each record value — Avro, Protobuf
// or JSON named by a schema id in the Confluent wire format and looked up
// in a schema registry, or plain JSON — masks the string fields its
// policies name, and encodes the value again in the same format. The
// records on the broker keep their clear values.
//
// A value it cannot decode fails its partition (fail_fetch, the default:
// the consumer sees POLICY_VIOLATION and never the clear value) or goes
// through unmasked and is reported (skip_masking).
package fieldleveldatamasking

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/schemaregistry"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("FieldLevelDataMasking",
		"Masks string fields of JSON, Avro and Protobuf record values in fetch responses",
		readme, newMasking,
		"io.conduktor.gateway.interceptor.FieldLevelDataMaskingPlugin"))
}

// Config is the plugin's config.
type Config struct {
	Topic                interceptor.Pattern    `json:"topic" doc:"topics whose records are masked (default: all)"`
	SchemaRegistryConfig *schemaregistry.Config `json:"schemaRegistryConfig" doc:"the schema registry of schema-framed values"`
	Policies             []Policy               `json:"policies" doc:"fields to mask and how"`
	ErrorPolicy          string                 `json:"errorPolicy" doc:"fail_fetch (default) or skip_masking, for values that cannot be masked"`
}

// Policy masks fields with one rule.
type Policy struct {
	Name   string   `json:"name" doc:"the policy's name (for people; reports name the field)"`
	Fields []string `json:"fields" doc:"paths: a.b, a[0].b, a[*].b"`
	Rule   Rule     `json:"rule" doc:"how the fields are masked"`
}

// Rule says which characters of a string are masked, and with what.
type Rule struct {
	Type          string  `json:"type" doc:"MASK_ALL, MASK_FIRST_N or MASK_LAST_N"`
	MaskingChar   *string `json:"maskingChar" doc:"the masking character (default *)"`
	NumberOfChars *int    `json:"numberOfChars" doc:"N of MASK_FIRST_N and MASK_LAST_N"`
}

type masking struct {
	interceptor.Base
	topic     interceptor.Pattern
	skipOnErr bool
	m         *masker
}

func newMasking(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	p := &masking{topic: cfg.Topic, m: &masker{}}
	switch strings.ToLower(cfg.ErrorPolicy) {
	case "", "fail_fetch":
	case "skip_masking":
		p.skipOnErr = true
	default:
		return nil, interceptor.Invalid("errorPolicy", "%q is not fail_fetch or skip_masking", cfg.ErrorPolicy)
	}
	if len(cfg.Policies) == 0 {
		return nil, interceptor.Invalid("policies", "at least one policy is required")
	}
	for i, pol := range cfg.Policies {
		at := fmt.Sprintf("policies[%d]", i)
		r, err := compileRule(at+".rule", pol.Rule)
		if err != nil {
			return nil, err
		}
		if len(pol.Fields) == 0 {
			return nil, interceptor.Invalid(at+".fields", "at least one field is required")
		}
		for j, f := range pol.Fields {
			pth, err := fieldpath.Parse(f)
			if err != nil {
				return nil, interceptor.Invalid(fmt.Sprintf("%s.fields[%d]", at, j), "%v", err)
			}
			p.m.fields = append(p.m.fields, field{raw: f, path: pth, rule: r})
		}
	}
	if rc := cfg.SchemaRegistryConfig; rc != nil {
		reg, err := schemaregistry.Open("schemaRegistryConfig", rc)
		if err != nil {
			return nil, err
		}
		p.m.registry = reg
	}
	return p, nil
}

// compileRule checks a rule's type, character and count.
func compileRule(at string, r Rule) (rule, error) {
	out := rule{kind: ruleKind(strings.ToUpper(r.Type)), char: '*'}
	switch out.kind {
	case maskAll:
	case maskFirstN, maskLastN:
		if r.NumberOfChars == nil || *r.NumberOfChars <= 0 {
			return out, interceptor.Invalid(at+".numberOfChars", "a positive number is required with %s", out.kind)
		}
		out.n = *r.NumberOfChars
	default:
		return out, interceptor.Invalid(at+".type", "%q is not MASK_ALL, MASK_FIRST_N or MASK_LAST_N", r.Type)
	}
	if c := r.MaskingChar; c != nil {
		if utf8.RuneCountInString(*c) != 1 {
			return out, interceptor.Invalid(at+".maskingChar", "%q is not exactly one character", *c)
		}
		out.char, _ = utf8.DecodeRuneInString(*c)
	}
	return out, nil
}
