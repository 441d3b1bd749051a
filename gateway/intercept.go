package gateway

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/strait-gateway/strait/interceptor"
	"github.com/strait-gateway/strait/vcluster"
)

// Chains supplies the interceptor chains of the current configuration
// generation (the pipeline package implements it).
type Chains interface {
	// Generation returns the number of the generation in force.
	Generation() uint64
	// Chain returns the generation's chain for a connection.
	Chain(c *interceptor.Conn) *interceptor.Chain
}

// chain returns the interceptor chain of the connection's current
// generation, nil without interceptors. A connection keeps its chain until
// the generation changes, so the steady state costs one atomic load.
func (c *conn) chain() *interceptor.Chain {
	chains := c.gw.cfg.Interceptors
	if chains == nil {
		return nil
	}
	if c.chainRef != nil && c.chainRef.Generation == chains.Generation() {
		return c.chainRef
	}
	if c.who.VCluster == "" {
		c.who = interceptor.Conn{
			ID:          c.audit.conn.ID,
			VCluster:    c.principal.VCluster,
			Username:    c.principal.Username,
			Groups:      c.principal.Groups,
			ClientIP:    clientIP(c.client),
			GatewayAddr: c.client.LocalAddr().String(),
			Topics:      logicalTopics{c},
		}
		if c.who.VCluster == "" {
			c.who.VCluster = vcluster.Passthrough
		}
	}
	c.chainRef = chains.Chain(&c.who)
	return c.chainRef
}

// logicalTopics names topic ids as the connection's virtual cluster sees
// them: the topology knows physical names, interceptors see logical ones.
type logicalTopics struct{ c *conn }

func (l logicalTopics) TopicName(id [16]byte) (string, bool) {
	physical, ok := l.c.gw.topology.TopicName(id)
	space := l.c.space()
	if !ok || space == nil {
		return "", false
	}
	if logical, ok := space.LogicalTopic(physical); ok {
		return logical, true
	}
	return "", false
}

// connected runs the chain's connection interceptors once the client is
// identified: a refusal closes the connection, a throttle delays it.
func (c *conn) connected() error {
	ch := c.chain()
	if ch == nil {
		return nil
	}
	call := ch.Connected(&c.who, time.Now())
	if call.Blocked() {
		return fmt.Errorf("gateway: connection refused by interceptor %s", call.Interceptor())
	}
	if d := call.Throttled(); d > 0 {
		select {
		case <-time.After(d):
		case <-c.done:
		}
	}
	return nil
}

// readClientID returns the client id of a request header; b starts after
// the correlation id. end is where the client id ends.
func readClientID(b []byte) (id *string, end int, err error) {
	if len(b) < 2 {
		return nil, 0, errTruncated
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	if n < 0 {
		return nil, 2, nil
	}
	if len(b) < 2+n {
		return nil, 0, errTruncated
	}
	s := string(b[2 : 2+n])
	return &s, 2 + n, nil
}

// appendClientID appends a request header client id.
func appendClientID(dst []byte, id *string) []byte {
	if id == nil {
		return binary.BigEndian.AppendUint16(dst, 0xffff)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(*id)))
	return append(dst, *id...)
}
