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
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/strait-gateway/strait/fieldpath"
	"github.com/strait-gateway/strait/interceptor"
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
	Topic                interceptor.Pattern `json:"topic" doc:"topics whose records are masked (default: all)"`
	SchemaRegistryConfig *RegistryConfig     `json:"schemaRegistryConfig" doc:"the schema registry of schema-framed values"`
	Policies             []Policy            `json:"policies" doc:"fields to mask and how"`
	ErrorPolicy          string              `json:"errorPolicy" doc:"fail_fetch (default) or skip_masking, for values that cannot be masked"`
}

// RegistryConfig locates a Confluent-compatible schema registry.
type RegistryConfig struct {
	Type              string            `json:"type" doc:"CONFLUENT (the default and only supported type)"`
	Host              string            `json:"host" doc:"base URL of the registry, http or https"`
	CacheSize         *int              `json:"cacheSize" doc:"schemas kept in memory (default 50)"`
	AdditionalConfigs map[string]string `json:"additionalConfigs" doc:"basic.auth.credentials.source=USER_INFO and basic.auth.user.info=user:password"`
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
	size := 50
	if rc := cfg.SchemaRegistryConfig; rc != nil {
		opts, err := registryOptions(rc)
		if err != nil {
			return nil, err
		}
		if rc.CacheSize != nil {
			size = *rc.CacheSize
		}
		var once sync.Once
		var cl *sr.Client
		p.m.registry = func() (*sr.Client, error) {
			once.Do(func() { cl, err = sr.NewClient(opts...) })
			if err != nil {
				return nil, fmt.Errorf("fieldleveldatamasking: schema registry client: %w", err)
			}
			return cl, nil
		}
	}
	p.m.cache = &schemaCache{size: size}
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

// registryOptions checks the registry config and returns the client's
// options.
func registryOptions(rc *RegistryConfig) ([]sr.ClientOpt, error) {
	const at = "schemaRegistryConfig"
	if t := strings.ToUpper(rc.Type); t != "" && t != "CONFLUENT" {
		return nil, interceptor.Invalid(at+".type", "%q is not supported; only CONFLUENT registries are (AWS Glue is not)", rc.Type)
	}
	u, err := url.Parse(rc.Host)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, interceptor.Invalid(at+".host", "%q is not an http or https URL", rc.Host)
	}
	if rc.CacheSize != nil && *rc.CacheSize <= 0 {
		return nil, interceptor.Invalid(at+".cacheSize", "must be positive")
	}
	opts := []sr.ClientOpt{sr.URLs(rc.Host)}
	var source, info string
	for k, v := range rc.AdditionalConfigs {
		switch k {
		case "basic.auth.credentials.source":
			source = v
		case "basic.auth.user.info":
			info = v
		default:
			return nil, interceptor.Invalid(at+".additionalConfigs."+k, "unsupported; expect basic.auth.credentials.source and basic.auth.user.info")
		}
	}
	switch {
	case source == "" && info == "":
	case !strings.EqualFold(source, "USER_INFO"):
		return nil, interceptor.Invalid(at+".additionalConfigs.basic.auth.credentials.source", "%q is not supported; expect USER_INFO", source)
	default:
		user, pass, ok := strings.Cut(info, ":")
		if !ok {
			return nil, interceptor.Invalid(at+".additionalConfigs.basic.auth.user.info", "expect user:password")
		}
		opts = append(opts, sr.BasicAuth(user, pass))
	}
	return opts, nil
}
