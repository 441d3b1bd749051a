package membership

import "github.com/strait-gateway/strait/gateway"

// Place chooses the live node that advertises a backing broker. Brokers
// are dealt out by their offset from the lowest broker id, so the choice is
// the same on every node with the same live set, stays put when brokers come
// and go, and spreads contiguous ids evenly. Nodes in the broker's rack are
// preferred when there are any. Place implements gateway.Placement.
func (m *Membership) Place(broker int32, rack string) (gateway.Routing, bool) {
	live := m.Live()
	var covering, sameRack []Member
	for _, mem := range live {
		if _, ok := mem.Routing().Port(broker); !ok {
			continue
		}
		covering = append(covering, mem)
		if rack != "" && mem.Rack == rack {
			sameRack = append(sameRack, mem)
		}
	}
	if len(sameRack) > 0 {
		covering = sameRack
	}
	if len(covering) == 0 {
		return gateway.Routing{}, false
	}
	off := int64(broker) - int64(m.cfg.Self.MinBrokerID)
	n := int64(len(covering))
	return covering[((off%n)+n)%n].Routing(), true
}
