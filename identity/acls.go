package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/acl"
	"github.com/strait-gateway/strait/auth"
	"github.com/strait-gateway/strait/store"
	"github.com/strait-gateway/strait/vcluster"
)

// ACL modes of a VirtualCluster (spec.aclMode).
const (
	// KafkaAPI: tenants manage their ACLs with CreateAcls and DeleteAcls;
	// they live in the secrets topic.
	KafkaAPI = "KAFKA_API"
	// RestAPI: the ACLs are spec.acls of the VirtualCluster resource.
	RestAPI = "REST_API"
)

// aclPolicy is what one VirtualCluster resource says about ACLs.
type aclPolicy struct {
	mode       string
	superUsers []string
	declared   *acl.Set // spec.acls, REST_API mode
}

// readACLPolicy reads a VirtualCluster's ACL settings; nil when the
// virtual cluster does not enforce ACLs. The resource was validated when
// it was stored, so a field that does not decode is left out.
func readACLPolicy(raw json.RawMessage) *aclPolicy {
	var s struct {
		Spec struct {
			ACLEnabled bool          `json:"aclEnabled"`
			ACLMode    string        `json:"aclMode"`
			SuperUsers []string      `json:"superUsers"`
			ACLs       []acl.Binding `json:"acls"`
		} `json:"spec"`
	}
	if json.Unmarshal(raw, &s) != nil || !s.Spec.ACLEnabled {
		return nil
	}
	p := &aclPolicy{mode: s.Spec.ACLMode, superUsers: s.Spec.SuperUsers}
	if p.mode == "" {
		p.mode = KafkaAPI
	}
	if p.mode == RestAPI {
		p.superUsers = nil // super users belong to KAFKA_API mode
		p.declared = acl.NewSet(s.Spec.ACLs)
	}
	return p
}

// managedACLs are the KAFKA_API-mode ACLs of every virtual cluster as of
// one generation of the secrets topic.
type managedACLs struct {
	generation uint64
	sets       map[string]*acl.Set
}

// aclCache holds the managedACLs of the latest secrets snapshot it was
// asked about. It is rebuilt on first use after a change, so a node reads
// its own ACL writes as soon as the store has applied them.
type aclCache struct {
	secrets *store.Store[secret]
	current atomic.Pointer[managedACLs]
}

func (c *aclCache) sets() map[string]*acl.Set {
	snap := c.secrets.Snapshot()
	if m := c.current.Load(); m != nil && m.generation == snap.Generation {
		return m.sets
	}
	// Record keys are canonical JSON of the binding: walking them in order
	// lists every virtual cluster's bindings in a stable order.
	bindings := map[string][]acl.Binding{}
	for _, k := range slices.Sorted(maps.Keys(snap.Entries)) {
		if e := snap.Entries[k].acl; e != nil {
			bindings[e.VCluster] = append(bindings[e.VCluster], e.Binding)
		}
	}
	m := &managedACLs{generation: snap.Generation, sets: map[string]*acl.Set{}}
	for vc, bs := range bindings {
		m.sets[vc] = acl.NewSet(bs)
	}
	c.current.Store(m)
	return m.sets
}

// Access implements gateway.Identity.
func (id *Identity) Access(p auth.Principal, clientIP string) vcluster.Access {
	pol := id.dir.Load().acls[p.VCluster]
	if pol == nil || p.VCluster == vcluster.Passthrough {
		return nil
	}
	return &access{id: id, policy: pol, vcluster: p.VCluster, user: p.Username, host: clientIP,
		super: slices.Contains(pol.superUsers, p.Username)}
}

// access is one connection's vcluster.Access.
type access struct {
	id       *Identity
	policy   *aclPolicy
	vcluster string
	user     string
	host     string
	super    bool
}

func (a *access) set() *acl.Set {
	if a.policy.mode == RestAPI {
		return a.policy.declared
	}
	return a.id.acls.sets()[a.vcluster]
}

func (a *access) Allowed(rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) bool {
	return a.super || a.set().Allowed(a.user, a.host, rt, name, op)
}

func (a *access) AllowedAny(rt kmsg.ACLResourceType, op kmsg.ACLOperation) bool {
	return a.super || a.set().AllowedAny(a.user, a.host, rt, op)
}

func (a *access) Bindings() []acl.Binding { return a.set().Bindings() }

func (a *access) Writable() bool { return a.policy.mode == KafkaAPI }

// Update writes the change to the secrets topic, one record per binding.
func (a *access) Update(ctx context.Context, add, remove []acl.Binding) error {
	if !a.Writable() {
		return fmt.Errorf("identity: ACLs of virtual cluster %s are declared in its configuration", a.vcluster)
	}
	for _, b := range add {
		if err := a.id.secrets.Put(ctx, aclKey(a.vcluster, b), []byte("{}")); err != nil {
			return fmt.Errorf("identity: store ACL: %w", err)
		}
	}
	for _, b := range remove {
		if err := a.id.secrets.Put(ctx, aclKey(a.vcluster, b), nil); err != nil {
			return fmt.Errorf("identity: delete ACL: %w", err)
		}
	}
	return nil
}
