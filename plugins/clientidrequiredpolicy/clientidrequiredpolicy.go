// Package clientidrequiredpolicy is the ClientIdRequiredPolicy interceptor:
// the client id of every request header must match a naming convention.
// BLOCK refuses a request whose client id does not, INFO reports it, and
// OVERRIDE replaces the client id by a template before the broker sees
// it.
package clientidrequiredpolicy

import (
	_ "embed"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("ClientIdRequiredPolicy",
		"The client id of every request must match a naming convention, or is rewritten from a template",
		readme, newPolicy,
		"io.conduktor.gateway.interceptor.safeguard.ClientIdRequiredPolicyPlugin"))
}

// Config is the plugin's config.
type Config struct {
	NamingConvention *interceptor.Pattern  `json:"namingConvention" doc:"client ids must match this regex (default: any, but present)"`
	ClientIDTemplate *interceptor.Template `json:"clientIdTemplate" doc:"the client id written with action OVERRIDE; {{variables}} allowed"`
	Action           interceptor.Action    `json:"action" doc:"BLOCK (default), INFO or OVERRIDE"`
}

type policy struct {
	interceptor.Base
	cfg  *Config
	keys []int16
}

func newPolicy(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if err := interceptor.CheckAction("action", cfg.Action, interceptor.Block, interceptor.Info, interceptor.Override); err != nil {
		return nil, err
	}
	if cfg.NamingConvention == nil {
		all := interceptor.MustPattern(".*")
		cfg.NamingConvention = &all
	}
	if t := cfg.ClientIDTemplate; t != nil {
		if err := t.CheckVars("clientIdTemplate", interceptor.CallVars); err != nil {
			return nil, err
		}
	}
	if cfg.Action == interceptor.Override && cfg.ClientIDTemplate == nil {
		return nil, interceptor.Invalid("clientIdTemplate", "is required with action OVERRIDE")
	}
	p := &policy{cfg: cfg}
	for k := int16(0); k <= kmsg.MaxKey; k++ {
		// ApiVersions is left alone: clients send it first, before
		// they know which versions to speak, and a refusal there only
		// breaks the connection with no error a user can read.
		if k != kmsg.ApiVersions.Int16() {
			p.keys = append(p.keys, k)
		}
	}
	return p, nil
}

func (p *policy) Subscribe() interceptor.Subscription {
	return interceptor.Subscription{Requests: p.keys}
}

// Request checks the request header's client id.
func (p *policy) Request(c *interceptor.Call, _ kmsg.Request) {
	id := ""
	if c.ClientID != nil {
		id = *c.ClientID
	}
	if c.ClientID != nil && id != "" && p.cfg.NamingConvention.Matches(id) {
		return
	}
	reason := fmt.Sprintf("client id %q does not match %s", id, p.cfg.NamingConvention)
	switch p.cfg.Action.Or(interceptor.Block) {
	case interceptor.Info:
		c.Report(interceptor.Info, "", reason)
	case interceptor.Override:
		rendered := p.cfg.ClientIDTemplate.Render(c.Var)
		c.ClientID = &rendered
		c.Report(interceptor.Override, "", fmt.Sprintf("%s; replaced with %q", reason, rendered))
	default:
		c.Block(kerr.PolicyViolation.Code, "", reason)
	}
}
