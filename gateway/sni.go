package gateway

import (
	"strconv"
	"strings"
)

// RoutingMode is how the gateway tells which backing broker a client
// connection is meant for.
type RoutingMode int

const (
	// PortRouting gives every broker a listener port of its own.
	PortRouting RoutingMode = iota
	// HostRouting serves every broker on one TLS port and picks the broker
	// from the server name (SNI) of the client's TLS handshake.
	HostRouting
)

// noBroker is the broker of a connection that names none: it is served
// like a bootstrap connection, by any live broker.
const noBroker int32 = -1

// BrokerHost returns the host name under which host routing advertises
// broker id: HostPrefix + id + HostSeparator + AdvertisedHost, for example
// broker3.kafka.example.com.
func (r Routing) BrokerHost(id int32) string {
	return r.HostPrefix + strconv.FormatInt(int64(id), 10) + r.HostSeparator + r.AdvertisedHost
}

// BrokerForServerName returns the broker whose host name (BrokerHost) is
// name, ignoring case. ok is false for any other name, including the bare
// advertised host clients bootstrap from and spellings BrokerHost never
// produces (a sign, leading zeros, an id beyond int32).
func (r Routing) BrokerForServerName(name string) (id int32, ok bool) {
	suffix := len(r.HostSeparator) + len(r.AdvertisedHost)
	if len(name) <= len(r.HostPrefix)+suffix ||
		!strings.EqualFold(name[:len(r.HostPrefix)], r.HostPrefix) ||
		!strings.EqualFold(name[len(name)-suffix:len(name)-len(r.AdvertisedHost)], r.HostSeparator) ||
		!strings.EqualFold(name[len(name)-len(r.AdvertisedHost):], r.AdvertisedHost) {
		return 0, false
	}
	digits := name[len(r.HostPrefix) : len(name)-suffix]
	if len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(digits, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// serverNameBroker returns the broker a host-routed connection is for, or
// noBroker when its server name is not a broker's host name (no SNI, the
// bootstrap host, or some other name).
func (r Routing) serverNameBroker(name string) int32 {
	if id, ok := r.BrokerForServerName(name); ok {
		return id
	}
	return noBroker
}
