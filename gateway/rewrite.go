package gateway

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/concentration"
	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/vcluster"
)

// Routing maps backing brokers to the addresses clients see. With port
// routing (the default) broker id n is served on port
// PortStart + (n − MinBrokerID) of AdvertisedHost. With host routing every
// broker is served on PortStart alone and advertised under a host name of
// its own (see BrokerHost); the TLS server name a client asks for picks the
// broker.
type Routing struct {
	// Mode is PortRouting (the zero value) or HostRouting.
	Mode           RoutingMode
	AdvertisedHost string
	PortStart      int
	PortCount      int
	MinBrokerID    int32
	// HostPrefix and HostSeparator build the broker host names of host
	// routing: HostPrefix + n + HostSeparator + AdvertisedHost.
	HostPrefix    string
	HostSeparator string
	// SNIPort is the port advertised for every broker with host routing;
	// it differs from PortStart behind a load balancer.
	SNIPort int32
}

// Port returns the gateway port that serves broker id; ok is false when the
// id falls outside the configured port range.
func (r Routing) Port(id int32) (port int32, ok bool) {
	off := int64(id) - int64(r.MinBrokerID)
	return int32(int64(r.PortStart) + off), off >= 0 && off < int64(r.PortCount)
}

// NodeID returns the broker id that a gateway port serves.
func (r Routing) NodeID(port int) int32 {
	return r.MinBrokerID + int32(port-r.PortStart)
}

// Placement chooses the gateway node that advertises each backing broker,
// so that the brokers of a multi-node gateway are spread across its nodes.
// Place returns the chosen node's routing; ok is false when no node covers
// the broker, and then the node answering advertises it itself.
type Placement interface {
	Place(broker int32, rack string) (r Routing, ok bool)
}

// rewriter turns backing-cluster responses into what a client of the
// gateway must see: every broker address replaced by a gateway address, and
// ApiVersions narrowed to what both the cluster and the gateway handle.
type rewriter struct {
	routing   Routing
	placement Placement // nil: every broker is advertised by this node
	topology  *Topology
	// unroutable is called for a broker id outside the port range.
	unroutable func(id int32)
	// answersSASL is set when the gateway itself answers SaslHandshake and
	// SaslAuthenticate, so it advertises them whatever the broker does.
	answersSASL bool
}

// address returns the gateway address for broker id: its host name with
// host routing, else its port on the node the placement chooses, or on this
// node.
func (w *rewriter) address(id int32) (string, int32) {
	if w.routing.Mode == HostRouting {
		return w.routing.BrokerHost(id), w.routing.SNIPort
	}
	r := w.routing
	if w.placement != nil {
		if placed, ok := w.placement.Place(id, w.topology.Rack(id)); ok {
			r = placed
		}
	}
	port, ok := r.Port(id)
	if !ok && w.unroutable != nil {
		w.unroutable(id)
	}
	return r.AdvertisedHost, port
}

// rewrite appends to dst the response body a client must see instead of
// body (the response after its correlation id and header tags). changed is
// false, and dst is returned as is, when body can be forwarded untouched.
//
// x, when set, first translates the response for the virtual cluster whose
// request it translated, and call then runs the interceptors of the
// response; space is the connection's view, which narrows
// ApiVersions (nil before authentication: what every virtual cluster may
// use).
func (w *rewriter) rewrite(key, version int16, body, dst []byte, x *vcluster.Exchange, space *vcluster.Space, call *interceptor.Call, cx *concentration.Exchange, extra []kmsg.Response) (out []byte, changed bool, err error) {
	if x == nil && call == nil && cx == nil && (key == keyProduce || key == keyFetch) {
		has, err := hasNodeEndpoints(key, version, body)
		if err != nil || !has {
			return dst, false, err
		}
	}
	resp := kmsg.ResponseForKey(key)
	resp.SetVersion(version)
	if key == keyApiVersions && len(body) >= 2 && kerr.ErrorForCode(int16(body[0])<<8|int16(body[1])) == kerr.UnsupportedVersion {
		// A broker answers an ApiVersions version it does not know with
		// a v0 body, so that any client can read it.
		resp.SetVersion(0)
	}
	if err := resp.ReadFrom(body); err != nil {
		return dst, false, fmt.Errorf("decode %s v%d response: %w", kmsg.NameForKey(key), version, err)
	}
	if m, ok := resp.(*kmsg.MetadataResponse); ok {
		// Before translation: the topology is shared by every
		// connection and holds physical names.
		w.topology.learnMetadata(m)
	}
	if cx != nil {
		if err := cx.Response(resp, extra); err != nil {
			return dst, false, fmt.Errorf("concentration %s v%d response: %w", kmsg.NameForKey(key), version, err)
		}
	}
	if x != nil {
		if err := x.Response(resp); err != nil {
			return dst, false, fmt.Errorf("translate %s v%d response: %w", kmsg.NameForKey(key), version, err)
		}
	}
	if call != nil {
		call.Response(resp)
	}
	switch r := resp.(type) {
	case *kmsg.ApiVersionsResponse:
		w.narrowVersions(r, space)
	case *kmsg.MetadataResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			b.Host, b.Port = w.address(b.NodeID)
		}
	case *kmsg.FindCoordinatorResponse:
		if r.ErrorCode == 0 && version < 4 {
			r.Host, r.Port = w.address(r.NodeID)
		}
		for i := range r.Coordinators {
			if c := &r.Coordinators[i]; c.ErrorCode == 0 {
				c.Host, c.Port = w.address(c.NodeID)
			}
		}
	case *kmsg.DescribeClusterResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			b.Host, b.Port = w.address(b.NodeID)
		}
	case *kmsg.ProduceResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			b.Host, b.Port = w.address(b.NodeID)
		}
	case *kmsg.FetchResponse:
		for i := range r.Brokers {
			b := &r.Brokers[i]
			b.Host, b.Port = w.address(b.NodeID)
		}
	case *kmsg.ShareFetchResponse:
		for i := range r.NodeEndpoints {
			b := &r.NodeEndpoints[i]
			b.Host, b.Port = w.address(b.NodeID)
		}
	case *kmsg.ShareAcknowledgeResponse:
		for i := range r.NodeEndpoints {
			b := &r.NodeEndpoints[i]
			b.Host, b.Port = w.address(b.NodeID)
		}
	case *kmsg.DescribeQuorumResponse:
		// Controllers are not reachable through the gateway; their
		// addresses are withheld rather than leaked.
		for i := range r.Nodes {
			r.Nodes[i].Listeners = nil
		}
	}
	return resp.AppendTo(dst), true, nil
}

// narrowVersions keeps only the API keys the gateway can parse and narrows
// each range to what every known broker and the gateway support. The
// broker's own minimum is kept when it is higher: Kafka 4 removed old
// versions (KIP-896) and the gateway never down-converts.
//
// A virtual cluster narrows further: keys its tenants may not use are left
// out and versions capped (for example at the last Fetch version that names
// topics). Before authentication every key is kept, capped for any tenant.
func (w *rewriter) narrowVersions(r *kmsg.ApiVersionsResponse, space *vcluster.Space) {
	cluster, known := w.topology.clusterVersions()
	keep := r.ApiKeys[:0]
	for _, k := range r.ApiKeys {
		ki := info(k.ApiKey)
		if !ki.known {
			continue
		}
		k.MaxVersion = min(k.MaxVersion, ki.maxVersion)
		if known {
			cr := cluster[k.ApiKey]
			if !cr.supported {
				continue
			}
			k.MinVersion = max(k.MinVersion, cr.min)
			k.MaxVersion = min(k.MaxVersion, cr.max)
		}
		if space != nil {
			k.MaxVersion = min(k.MaxVersion, space.MaxVersion(k.ApiKey))
		} else {
			k.MaxVersion = min(k.MaxVersion, vcluster.TenantCap(k.ApiKey))
		}
		if k.MinVersion > k.MaxVersion {
			continue
		}
		if k.ApiKey == keyProduce {
			// librdkafka only compresses with gzip, snappy and lz4 when
			// Produce v0 is advertised; Kafka 4 keeps advertising v0–v2
			// for that reason (KAFKA-18659) and rejects them when used.
			// The gateway does the same, whatever the backing minimum.
			k.MinVersion = 0
		}
		keep = append(keep, k)
	}
	r.ApiKeys = keep
	if w.answersSASL {
		// v0 stays advertised, as Kafka 4 does, because librdkafka
		// only looks for SaslHandshake when it sees v0; it then uses v1.
		r.ApiKeys = advertise(r.ApiKeys, keySaslHandshake, 0, maxSaslHandshake)
		r.ApiKeys = advertise(r.ApiKeys, keySaslAuthenticate, 0, maxSaslAuthenticate)
	}
}

// advertise sets the version range of an API key the gateway answers
// itself, adding the key when the broker did not list it.
func advertise(keys []kmsg.ApiVersionsResponseApiKey, key, lo, hi int16) []kmsg.ApiVersionsResponseApiKey {
	for i := range keys {
		if keys[i].ApiKey == key {
			keys[i].MinVersion, keys[i].MaxVersion = lo, hi
			return keys
		}
	}
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey, k.MinVersion, k.MaxVersion = key, lo, hi
	return append(keys, k)
}

// unsupportedApiVersions builds the answer to an ApiVersions request newer
// than the gateway can parse: a v0 body with UNSUPPORTED_VERSION and the
// range the gateway does support, so the client retries at a version both
// understand (KIP-511).
func unsupportedApiVersions() []byte {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey, k.MinVersion, k.MaxVersion = keyApiVersions, 0, info(keyApiVersions).maxVersion
	resp.ApiKeys = append(resp.ApiKeys, k)
	return resp.AppendTo(nil)
}
