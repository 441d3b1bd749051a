package interceptor

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/encryption"
)

// Plugin is a kind of interceptor.
type Plugin struct {
	// Name is Strait's short name, used in pluginClass.
	Name string
	// Classes are other pluginClass values accepted for the plugin: the
	// class names other gateways use, so existing resource files work.
	Classes []string
	// Summary is one line on what the plugin does.
	Summary string
	// README is the plugin's documentation in Markdown.
	README string
	// config returns a new zero config, for decoding and the schema.
	config func() any
	// build makes an interceptor from a decoded config.
	build func(cfg any, env Env) (Interceptor, error)
}

// Env is what an interceptor may use besides its config. At validation
// time it is the zero Env: New must not do I/O or start goroutines, and
// an interceptor uses its Env only when it runs.
type Env struct {
	// Log is named after the interceptor.
	Log *zap.Logger
	// Limits counts events across every node of the gateway cluster.
	Limits Limits
	// Node describes the gateway node, for templates.
	Node Node
	// KeyStore keeps the data keys of gateway-kms:// for the gateway
	// cluster; nil when the node has none.
	KeyStore encryption.KeyStore
}

// Node identifies the gateway node an interceptor runs on.
type Node struct {
	Host, Version string
}

// Define makes a plugin from a typed config and constructor. The config
// is decoded strictly into a new C before build is called.
func Define[C any](name, summary, readme string, build func(cfg *C, env Env) (Interceptor, error), classes ...string) Plugin {
	return Plugin{
		Name: name, Summary: summary, README: readme, Classes: classes,
		config: func() any { return new(C) },
		build:  func(cfg any, env Env) (Interceptor, error) { return build(cfg.(*C), env) },
	}
}

var plugins = map[string]*Plugin{} // by name and by class

// Register makes a plugin available; plugin packages call it from init.
func Register(p Plugin) {
	for _, n := range append([]string{p.Name}, p.Classes...) {
		if _, dup := plugins[n]; dup {
			panic("interceptor: plugin " + n + " registered twice")
		}
		plugins[n] = &p
	}
}

// Lookup finds a plugin by its name or one of its class names.
func Lookup(class string) (*Plugin, bool) {
	p, ok := plugins[strings.TrimSpace(class)]
	return p, ok
}

// Plugins returns every registered plugin, sorted by name.
func Plugins() []*Plugin {
	var out []*Plugin
	for n, p := range plugins {
		if n == p.Name {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Schema describes the plugin's config as a JSON Schema object.
func (p *Plugin) Schema() map[string]any { return schemaOf(p.config()) }

// New validates a config and makes an interceptor from it. ${VAR}
// references are replaced by environment variables first. Its errors are
// *ConfigError naming the field.
func (p *Plugin) New(config json.RawMessage, env Env) (Interceptor, error) {
	cfg := p.config()
	if err := decodeConfig(config, cfg); err != nil {
		return nil, err
	}
	i, err := p.build(cfg, env)
	if err != nil {
		return nil, err
	}
	return i, nil
}

// Validate checks an Interceptor resource's pluginClass and config
// without keeping the result.
func Validate(class string, config json.RawMessage) error {
	p, ok := Lookup(class)
	if !ok {
		return &ConfigError{Field: "pluginClass", Msg: fmt.Sprintf("unknown plugin %q; GET /gateway/v2/plugin lists them", class)}
	}
	_, err := p.New(config, Env{})
	return err
}

// ConfigError is an invalid config. Field is a dotted path inside config
// ("numPartition.max"), or pluginClass.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Invalid returns a ConfigError for a plugin's own checks.
func Invalid(field, format string, args ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
