package gateway

import (
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topology is the gateway's view of the backing cluster: where each broker
// listens and which API versions every broker supports. It is refreshed by
// the gateway's own client and also learns from every Metadata response that
// passes through, so leadership moves and brokers joining or leaving show up
// without waiting for the next refresh.
type Topology struct {
	mu       sync.RWMutex
	brokers  map[int32]string // node id → host:port
	racks    map[int32]string // node id → rack, for brokers that have one
	versions [maxKeys]versionRange
	ready    bool // versions holds at least one broker's answer
	// topics maps topic ids to physical names, learnt from Metadata
	// responses, for interceptors of requests that name topics by id.
	topics map[[16]byte]string
}

type versionRange struct {
	min, max  int16
	supported bool
}

// NewTopology returns an empty topology.
func NewTopology() *Topology {
	return &Topology{brokers: make(map[int32]string), racks: make(map[int32]string), topics: make(map[[16]byte]string)}
}

// Broker is a backing broker's identity and address.
type Broker struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   string // empty when the broker has none
}

// SetBrokers replaces the broker list with a complete one.
func (t *Topology) SetBrokers(brokers []Broker) {
	m := make(map[int32]string, len(brokers))
	racks := make(map[int32]string)
	for _, b := range brokers {
		m[b.NodeID] = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
		if b.Rack != "" {
			racks[b.NodeID] = b.Rack
		}
	}
	t.mu.Lock()
	t.brokers, t.racks = m, racks
	t.mu.Unlock()
}

// learnMetadata records the brokers of a Metadata response (always the
// complete live set) before the gateway rewrites their addresses.
func (t *Topology) learnMetadata(resp *kmsg.MetadataResponse) {
	bs := make([]Broker, len(resp.Brokers))
	for i, b := range resp.Brokers {
		bs[i] = Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: deref(b.Rack)}
	}
	t.SetBrokers(bs)
	var unknown bool
	t.mu.RLock()
	for _, tp := range resp.Topics {
		if tp.Topic != nil && tp.TopicID != [16]byte{} && t.topics[tp.TopicID] != *tp.Topic {
			unknown = true
			break
		}
	}
	t.mu.RUnlock()
	if unknown {
		t.mu.Lock()
		for _, tp := range resp.Topics {
			if tp.Topic != nil && tp.TopicID != [16]byte{} {
				t.topics[tp.TopicID] = *tp.Topic
			}
		}
		t.mu.Unlock()
	}
}

// TopicName returns the name of a topic id seen in a Metadata response.
func (t *Topology) TopicName(id [16]byte) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	name, ok := t.topics[id]
	return name, ok
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Rack returns the rack of broker id, empty when it has none or is unknown.
func (t *Topology) Rack(id int32) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.racks[id]
}

// Address returns the address of broker id.
func (t *Topology) Address(id int32) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	a, ok := t.brokers[id]
	return a, ok
}

// candidates returns the addresses to try for a connection to broker id:
// that broker first, then every other known broker by ascending id, so that
// any port can bootstrap a client.
func (t *Topology) candidates(id int32) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := make([]int32, 0, len(t.brokers))
	for other := range t.brokers {
		if other != id {
			ids = append(ids, other)
		}
	}
	slices.Sort(ids)
	out := make([]string, 0, len(t.brokers))
	if a, ok := t.brokers[id]; ok {
		out = append(out, a)
	}
	for _, other := range ids {
		out = append(out, t.brokers[other])
	}
	return out
}

// NodeIDs returns the ids of the known brokers.
func (t *Topology) NodeIDs() []int32 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := make([]int32, 0, len(t.brokers))
	for id := range t.brokers {
		ids = append(ids, id)
	}
	return ids
}

// KeyVersions is one broker's supported version range for one API key.
type KeyVersions struct {
	Key, Min, Max int16
}

// SetVersions replaces the cluster-wide version table with the intersection
// of the given brokers' answers: a key is supported only if every broker
// supports it, from the highest minimum to the lowest maximum.
func (t *Topology) SetVersions(perBroker [][]KeyVersions) {
	if len(perBroker) == 0 {
		return
	}
	var table [maxKeys]versionRange
	for i, kvs := range perBroker {
		var seen [maxKeys]bool
		for _, kv := range kvs {
			if kv.Key < 0 || int(kv.Key) >= maxKeys {
				continue
			}
			seen[kv.Key] = true
			r := &table[kv.Key]
			switch {
			case i == 0:
				*r = versionRange{min: kv.Min, max: kv.Max, supported: true}
			case r.supported:
				r.min, r.max = max(r.min, kv.Min), min(r.max, kv.Max)
			}
		}
		for k := range table {
			if !seen[k] {
				table[k].supported = false
			}
		}
	}
	t.mu.Lock()
	t.versions, t.ready = table, true
	t.mu.Unlock()
}

// clusterVersions returns the cluster-wide version table; known is false
// when no broker's versions have been read yet.
func (t *Topology) clusterVersions() (table *[maxKeys]versionRange, known bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.ready {
		return nil, false
	}
	v := t.versions
	return &v, true
}
