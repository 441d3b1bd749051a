package interceptor

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type testConfig struct {
	Topic   Pattern             `json:"topic"`
	Limit   *Range              `json:"limit"`
	Names   *OneOf              `json:"names"`
	Headers map[string]Template `json:"headers"`
	Items   []struct {
		Name string `json:"name"`
	} `json:"items"`
	Secret string `json:"secret"`
	Count  int    `json:"count"`
}

func TestDecodeConfigNamesTheField(t *testing.T) {
	t.Setenv("STRAIT_TEST_SECRET", `s3"cret`)
	for _, c := range []struct {
		name, config, field, msg string
	}{
		{"unknown key", `{"topc":"x"}`, "topc", "unknown field"},
		{"nested unknown key", `{"limit":{"min":1,"mx":2}}`, "limit.mx", "unknown field"},
		{"wrong type", `{"count":"many"}`, "count", "expect an integer"},
		{"nested wrong type", `{"limit":{"max":"six"}}`, "limit.max", "expect a number"},
		{"array element", `{"items":[{"name":"a"},{"name":3}]}`, "items[1].name", "expect a string"},
		{"bad regex", `{"topic":"a(b"}`, "topic", "invalid regular expression"},
		{"min above max", `{"limit":{"min":7,"max":6}}`, "limit", "min 7 is above max 6"},
		{"override without value", `{"limit":{"max":6,"action":"OVERRIDE"}}`, "limit.overrideValue", "required"},
		{"override outside range", `{"limit":{"max":6,"action":"OVERRIDE","overrideValue":9}}`, "limit.overrideValue", "outside"},
		{"bad action", `{"limit":{"max":6,"action":"SHOUT"}}`, "limit.action", "expect one of"},
		{"override not in set", `{"names":{"values":["a"],"action":"OVERRIDE","overrideValue":"b"}}`, "names.overrideValue", "not one of"},
		{"malformed template", `{"headers":{"h":"{{user"}}`, "headers.h", "malformed"},
		{"missing env", `{"secret":"${STRAIT_TEST_UNSET_VARIABLE}"}`, "", "STRAIT_TEST_UNSET_VARIABLE is not set"},
		{"not an object", `[1]`, "", "expect an object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cfg testConfig
			err := decodeConfig(json.RawMessage(c.config), &cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a ConfigError", err)
			}
			if ce.Field != c.field || !strings.Contains(ce.Msg, c.msg) {
				t.Errorf("error %q on field %q, want %q on %q", ce.Msg, ce.Field, c.msg, c.field)
			}
		})
	}
}

func TestDecodeConfig(t *testing.T) {
	t.Setenv("STRAIT_TEST_SECRET", `s3"cret`)
	var cfg testConfig
	err := decodeConfig(json.RawMessage(`{"topic":"orders-.*","limit":{"min":1,"max":6},"secret":"pw=${STRAIT_TEST_SECRET}",
		"headers":{"X-User":"{{user}}@{{vcluster}}"},"names":{"values":["delete","compact"]}}`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Topic.Matches("orders-eu") || cfg.Topic.Matches("x-orders-eu") {
		t.Error("topic pattern must match whole names only")
	}
	if !cfg.Limit.Allows(6) || cfg.Limit.Allows(7) || cfg.Limit.Allows(0) {
		t.Error("range bounds")
	}
	if cfg.Secret != `pw=s3"cret` {
		t.Errorf("env reference resolved to %q", cfg.Secret)
	}
	if !cfg.Names.Allows("COMPACT") || cfg.Names.Allows("other") {
		t.Error("set membership")
	}
	got := cfg.Headers["X-User"].Render(func(v string) string { return "<" + v + ">" })
	if got != "<user>@<vcluster>" {
		t.Errorf("template rendered %q", got)
	}
	if err := cfg.Headers["X-User"].CheckVars("headers.X-User", []string{"user"}); err == nil {
		t.Error("CheckVars accepted an unknown variable")
	}
}

func TestSchema(t *testing.T) {
	s := schemaOf(&testConfig{})
	props := s["properties"].(map[string]any)
	if props["topic"].(map[string]any)["format"] != "regex" || props["limit"].(map[string]any)["type"] != "object" ||
		props["items"].(map[string]any)["type"] != "array" || s["additionalProperties"] != false {
		t.Errorf("schema %v", s)
	}
}

// FuzzDecodeConfig feeds arbitrary JSON to the strict decoder: it never
// panics and every failure is a ConfigError.
func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(`{"topic":"a.*","limit":{"min":1,"max":6,"action":"OVERRIDE","overrideValue":3}}`))
	f.Add([]byte(`{"headers":{"h":"{{user}}-${HOME}"},"items":[{"name":"x"}],"names":{"values":["a"]}}`))
	f.Add([]byte(`{"limit":null,"items":null,"count":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg testConfig
		err := decodeConfig(data, &cfg)
		var ce *ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("%T %v", err, err)
		}
	})
}
