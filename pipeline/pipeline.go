// Package pipeline turns the Interceptor resources of each configuration
// generation into the chains the gateway runs. For a connection — its
// virtual cluster, user and groups — it picks, per interceptor name, the
// instance with the most precise matching scope (username, then group,
// then virtual cluster, then global; every matching group's instance when
// groups are the most precise match) and orders them by priority, then
// name. Chains are compiled once per generation and per kind of
// connection, and the generation is published with one atomic swap, so a
// configuration change reaches existing connections at their next request
// while requests already running finish on the chain they started with.
package pipeline

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/strait-gateway/strait/encryption"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/resource"
)

// Config is what the pipeline gives the interceptors it builds.
type Config struct {
	Log      *zap.Logger
	Reporter interceptor.Reporter
	Limits   interceptor.Limits
	Node     interceptor.Node
	KeyStore encryption.KeyStore // gateway-kms:// data keys; nil when the node has none
}

// Pipeline holds the current generation of compiled interceptors.
type Pipeline struct {
	cfg Config
	gen atomic.Pointer[Generation]

	mu    sync.Mutex
	built map[string]*entry // by resource key, reused while unchanged
}

// New returns a pipeline with an empty generation 0.
func New(cfg Config) *Pipeline {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	p := &Pipeline{cfg: cfg, built: map[string]*entry{}}
	p.gen.Store(&Generation{p: p})
	return p
}

// entry is one Interceptor resource, built.
type entry struct {
	res      *resource.Resource
	name     string
	plugin   string
	priority int
	scope    scope
	instance interceptor.Interceptor
}

// Apply builds a generation from a config snapshot's resources and
// publishes it, unless a later snapshot was applied already. Interceptors
// whose resource did not change keep their instance, and with it any
// state they count.
func (p *Pipeline) Apply(generation uint64, entries map[string]*resource.Resource) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if generation <= p.gen.Load().n && generation != 0 {
		return
	}
	next := map[string]*entry{}
	for key, r := range entries {
		if r.Kind != "Interceptor" {
			continue
		}
		if e, ok := p.built[key]; ok && bytes.Equal(e.res.Raw, r.Raw) {
			next[key] = e
			continue
		}
		e, err := p.build(r)
		if err != nil {
			// The store validated the record, so this is a difference
			// between nodes, such as an unset environment variable.
			p.cfg.Log.Error("interceptor not loaded on this node", zap.String("interceptor", r.Name), zap.Error(err))
			continue
		}
		next[key] = e
	}
	for key, e := range p.built {
		if next[key] != e {
			if c, ok := e.instance.(io.Closer); ok {
				_ = c.Close()
			}
		}
	}
	p.built = next
	g := &Generation{p: p, n: generation, byName: map[string][]*entry{}}
	for _, e := range next {
		g.byName[e.name] = append(g.byName[e.name], e)
	}
	p.gen.Store(g)
}

func (p *Pipeline) build(r *resource.Resource) (*entry, error) {
	var doc struct {
		Spec struct {
			PluginClass string          `json:"pluginClass"`
			Priority    int             `json:"priority"`
			Config      json.RawMessage `json:"config"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		return nil, err
	}
	plugin, ok := interceptor.Lookup(doc.Spec.PluginClass)
	if !ok {
		return nil, &interceptor.ConfigError{Field: "pluginClass", Msg: "unknown plugin " + doc.Spec.PluginClass}
	}
	inst, err := plugin.New(doc.Spec.Config, interceptor.Env{
		Log:      p.cfg.Log.Named(r.Name),
		Limits:   p.cfg.Limits,
		Node:     p.cfg.Node,
		KeyStore: p.cfg.KeyStore,
	})
	if err != nil {
		return nil, err
	}
	return &entry{res: r, name: r.Name, plugin: plugin.Name, priority: doc.Spec.Priority, scope: scopeOf(r), instance: inst}, nil
}

// Current returns the generation in force.
func (p *Pipeline) Current() *Generation { return p.gen.Load() }

// Generation returns the number of the generation in force.
func (p *Pipeline) Generation() uint64 { return p.gen.Load().n }

// Chain returns the current generation's chain for a connection.
func (p *Pipeline) Chain(c *interceptor.Conn) *interceptor.Chain {
	return p.gen.Load().Chain(c.VCluster, c.Username, c.Groups)
}

// Resolve returns the Interceptor resources of the current generation that
// apply to a connection, in the order they run.
func (p *Pipeline) Resolve(vc, user string, groups []string) []*resource.Resource {
	return p.gen.Load().Resolve(vc, user, groups)
}

// Generation is the interceptors of one configuration generation.
type Generation struct {
	p      *Pipeline
	n      uint64
	byName map[string][]*entry
	chains sync.Map // chain key → *interceptor.Chain
}

// Chain returns the chain for connections of a virtual cluster, user and
// groups, compiling it on first use.
func (g *Generation) Chain(vc, user string, groups []string) *interceptor.Chain {
	key := vc + "\x00" + user + "\x00" + strings.Join(groups, "\x00")
	if ch, ok := g.chains.Load(key); ok {
		return ch.(*interceptor.Chain)
	}
	selected := g.resolve(vc, user, groups)
	steps := make([]interceptor.Step, len(selected))
	for i, e := range selected {
		steps[i] = interceptor.Step{Name: e.name, Plugin: e.plugin, Priority: e.priority, Interceptor: e.instance}
	}
	ch, _ := g.chains.LoadOrStore(key, interceptor.NewChain(g.n, steps, g.p.cfg.Reporter, g.p.cfg.Node))
	return ch.(*interceptor.Chain)
}

// Resolve returns the Interceptor resources that apply to a connection,
// in the order they run.
func (g *Generation) Resolve(vc, user string, groups []string) []*resource.Resource {
	selected := g.resolve(vc, user, groups)
	out := make([]*resource.Resource, len(selected))
	for i, e := range selected {
		out[i] = e.res
	}
	return out
}

func (g *Generation) resolve(vc, user string, groups []string) []*entry {
	var out []*entry
	for _, instances := range g.byName {
		out = append(out, pick(instances, vc, user, groups)...)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return string(a.res.Key()) < string(b.res.Key())
	})
	return out
}

// pick chooses among the instances of one name those that apply: the
// single most precise match, or, when groups are the most precise match,
// the most precise instance of each matching group.
func pick(instances []*entry, vc, user string, groups []string) []*entry {
	var best *entry
	byGroup := map[string]*entry{}
	for _, e := range instances {
		if !e.scope.matches(vc, user, groups) {
			continue
		}
		if best == nil || e.scope.precision() > best.scope.precision() ||
			(e.scope.precision() == best.scope.precision() && string(e.res.Key()) < string(best.res.Key())) {
			best = e
		}
		if e.scope.targetsGroup() {
			g := e.scope.group.value
			if cur, ok := byGroup[g]; !ok || e.scope.precision() > cur.scope.precision() {
				byGroup[g] = e
			}
		}
	}
	if best == nil {
		return nil
	}
	if !best.scope.targetsGroup() {
		return []*entry{best}
	}
	out := make([]*entry, 0, len(byGroup))
	for _, e := range byGroup {
		out = append(out, e)
	}
	return out
}
