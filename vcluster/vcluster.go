// Package vcluster gives each virtual cluster its own view of the shared
// backing cluster. A tenant's topics, consumer groups and transactional ids
// are stored under a physical name that starts with the virtual cluster's
// name and a dot; every request a tenant sends is translated from logical to
// physical names before it reaches the backing cluster, and every response
// back, dropping whatever belongs to someone else. The passthrough virtual
// cluster sees the backing cluster as it is, minus Strait's internal topics.
//
// Translation works on decoded kmsg requests and responses. Each API key has
// a rule (one file per family of APIs); a key without a rule is not
// available to tenants at all, so nothing new in the protocol can leak
// across the boundary by default.
package vcluster

import (
	"errors"
	"math"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Passthrough is the virtual cluster of connections that belong to no
// tenant.
const Passthrough = "passthrough"

// Separator joins a virtual cluster's name and a logical name into the
// physical name. Virtual cluster names cannot contain it, so a physical
// name belongs to at most one virtual cluster.
const Separator = "."

// InternalPrefix starts the name of every topic Strait keeps state in.
// Such topics never appear in listings, and passthrough clients cannot
// delete or alter them.
const InternalPrefix = "_strait_"

// ErrUnavailable is returned for a request a tenant may not send at all.
var ErrUnavailable = errors.New("vcluster: API not available inside a virtual cluster")

// Space is one virtual cluster's view of the backing cluster. It is
// immutable; a configuration change builds a new one.
type Space struct {
	name    string
	prefix  string            // name + Separator; "" for passthrough
	scrub   *regexp.Regexp    // the prefix where a name starts; nil for passthrough
	aliases map[string]string // logical topic → physical topic
	reverse map[string]string // physical topic → logical alias
	// translates answers Translates for API keys below its length, so the
	// frame path indexes an array per request instead of asking the rules.
	translates [256]bool
}

// New returns the space of the named virtual cluster. aliases maps logical
// topic names inside it to physical topics outside its prefix.
func New(name string, aliases map[string]string) *Space {
	s := &Space{name: name, aliases: map[string]string{}, reverse: map[string]string{}}
	if name != Passthrough {
		s.prefix = name + Separator
		// A name starts where no name character precedes it, so "red."
		// is taken out of "red.orders" but not out of "delivered.".
		s.scrub = regexp.MustCompile(`(^|[^a-zA-Z0-9._-])` + regexp.QuoteMeta(s.prefix))
	}
	for k := range s.translates {
		s.translates[k] = s.decideTranslates(int16(k))
	}
	for logical, physical := range aliases {
		s.aliases[logical] = physical
		if prev, ok := s.reverse[physical]; !ok || logical < prev {
			s.reverse[physical] = logical // deterministic when two aliases share a topic
		}
	}
	return s
}

// Name returns the virtual cluster's name.
func (s *Space) Name() string { return s.name }

// IsPassthrough reports whether the space is the untranslated passthrough
// view.
func (s *Space) IsPassthrough() bool { return s.prefix == "" }

// Topic returns the physical name of a logical topic.
func (s *Space) Topic(logical string) string {
	if p, ok := s.aliases[logical]; ok {
		return p
	}
	return s.prefix + logical
}

// LogicalTopic returns the name a physical topic has inside the space; ok
// is false when the topic is not part of it (another tenant's, or internal).
func (s *Space) LogicalTopic(physical string) (string, bool) {
	if l, ok := s.reverse[physical]; ok {
		return l, true
	}
	var l string
	var ok bool
	if s.prefix == "" {
		l, ok = physical, !strings.HasPrefix(physical, InternalPrefix)
	} else {
		l, ok = strings.CutPrefix(physical, s.prefix)
		ok = ok && l != ""
	}
	if _, shadowed := s.aliases[l]; shadowed {
		return "", false // inside the space the name means the alias
	}
	return l, ok
}

// IsAlias reports whether a logical topic name is one of the space's
// aliases.
func (s *Space) IsAlias(logical string) bool {
	_, ok := s.aliases[logical]
	return ok
}

// Group returns the physical id of a logical consumer group.
func (s *Space) Group(logical string) string { return s.prefix + logical }

// LogicalGroup returns the logical id of a physical consumer group; ok is
// false when the group is not part of the space.
func (s *Space) LogicalGroup(physical string) (string, bool) {
	return s.unprefix(physical)
}

// TransactionalID returns the physical id of a logical transactional id.
func (s *Space) TransactionalID(logical string) string { return s.prefix + logical }

// LogicalTransactionalID returns the logical form of a physical
// transactional id; ok is false when it is not part of the space.
func (s *Space) LogicalTransactionalID(physical string) (string, bool) {
	return s.unprefix(physical)
}

func (s *Space) unprefix(physical string) (string, bool) {
	if s.prefix == "" {
		return physical, true
	}
	l, ok := strings.CutPrefix(physical, s.prefix)
	return l, ok && l != ""
}

// Scrub removes the space's prefix from a broker's error message, so a
// message never shows a physical name.
func (s *Space) Scrub(msg *string) {
	if msg != nil && s.scrub != nil {
		*msg = s.scrub.ReplaceAllString(*msg, "${1}")
	}
}

// rule translates one API key.
type rule struct {
	// maxVersion is the newest version a tenant may use (for example the
	// last version that names topics rather than topic ids).
	maxVersion int16
	// passthrough makes the rule apply to the passthrough space as well;
	// other rules only apply to tenants.
	passthrough bool
	request     func(x *Exchange, req kmsg.Request) error
	response    func(x *Exchange, resp kmsg.Response) error
}

var rules = map[int16]rule{}

// register installs the rule of an API key; called from init functions.
func register(key int16, r rule) {
	if _, dup := rules[key]; dup {
		panic("vcluster: two rules for API key " + kmsg.NameForKey(key))
	}
	rules[key] = r
}

// neutral lists the API keys that name nothing a tenant could cross the
// boundary with; tenants use them untranslated.
var neutral = map[int16]bool{
	17: true, // SaslHandshake
	18: true, // ApiVersions
	36: true, // SaslAuthenticate
	60: true, // DescribeCluster
	71: true, // GetTelemetrySubscriptions
	72: true, // PushTelemetry
}

// MaxVersion returns the newest version of an API key clients of the space
// may use: math.MaxInt16 when the space does not restrict it, -1 when the
// key is not available at all.
func (s *Space) MaxVersion(key int16) int16 {
	if s.prefix == "" || neutral[key] {
		return math.MaxInt16
	}
	if r, ok := rules[key]; ok {
		return r.maxVersion
	}
	return -1
}

// TenantCap returns the newest version of an API key that every tenant
// may use, math.MaxInt16 when tenants do not restrict it. It is what a
// connection is offered before authentication has told which virtual
// cluster it belongs to.
func TenantCap(key int16) int16 {
	if r, ok := rules[key]; ok {
		return r.maxVersion
	}
	return math.MaxInt16
}

// Translates reports whether requests of an API key must be decoded and
// passed through Request for this space.
func (s *Space) Translates(key int16) bool {
	if key >= 0 && int(key) < len(s.translates) {
		return s.translates[key]
	}
	return s.decideTranslates(key)
}

func (s *Space) decideTranslates(key int16) bool {
	r, ok := rules[key]
	if s.prefix == "" {
		return ok && r.passthrough
	}
	return !neutral[key]
}

// Exchange carries one request's translation to its response.
type Exchange struct {
	Space *Space
	// Local, when a rule sets it, is answered to the client instead of
	// forwarding the request. Its version is the request's.
	Local kmsg.Response
	// names maps the physical topics this request named back to the
	// logical names the client used.
	names map[string]string
	// state is whatever a rule's request half leaves for its response half.
	state any
	// access decides what the client may do; nil allows everything.
	access Access
	// refused is what a guard's request half leaves for its response half.
	refused any
}

// Request translates req in place from logical to physical names and
// returns the exchange that translates its response. access, when set,
// first refuses what the client may not do (tenants only).
func (s *Space) Request(req kmsg.Request, access Access) (*Exchange, error) {
	x := &Exchange{Space: s}
	r, ok := rules[req.Key()]
	if !ok || (s.prefix == "" && !r.passthrough) {
		if s.prefix == "" || neutral[req.Key()] {
			return x, nil
		}
		return nil, ErrUnavailable
	}
	if s.prefix != "" && req.GetVersion() > r.maxVersion {
		return nil, ErrUnavailable
	}
	if access != nil && s.prefix != "" {
		x.access = access
		forward, err := x.authorize(req)
		if err != nil {
			return nil, err
		}
		if !forward {
			return x, nil
		}
	}
	if r.request != nil {
		if err := r.request(x, req); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Response translates resp, the answer to the exchange's request, in place
// from physical to logical names.
func (x *Exchange) Response(resp kmsg.Response) error {
	r, ok := rules[resp.Key()]
	if !ok || (x.Space.prefix == "" && !r.passthrough) {
		return nil
	}
	if r.response != nil {
		if err := r.response(x, resp); err != nil {
			return err
		}
	}
	if g := guards[resp.Key()]; x.access != nil && g.response != nil {
		g.response(x, resp)
	}
	return nil
}

// topic maps a logical topic named by the request and remembers the name
// the client used.
func (x *Exchange) topic(logical string) string {
	p := x.Space.Topic(logical)
	if x.names == nil {
		x.names = map[string]string{}
	}
	x.names[p] = logical
	return p
}

// logicalTopic maps a physical topic of the response back: to the name the
// request used for it when there is one, otherwise as the space sees it.
func (x *Exchange) logicalTopic(physical string) (string, bool) {
	if l, ok := x.names[physical]; ok {
		return l, true
	}
	return x.Space.LogicalTopic(physical)
}

// retain keeps, in order and in place, the elements of s that keep accepts
// (keep may also modify them, for example to rename), and clears the rest
// of the backing array so dropped entries are not kept alive.
func retain[E any](s []E, keep func(*E) bool) []E {
	kept := s[:0]
	for i := range s {
		if keep(&s[i]) {
			kept = append(kept, s[i])
		}
	}
	clear(s[len(kept):])
	return kept
}
