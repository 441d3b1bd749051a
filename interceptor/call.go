package interceptor

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Conn is who a client connection is and where it comes from.
type Conn struct {
	// ID names the connection uniquely within the gateway cluster; the
	// audit log keys a connection's events by it.
	ID       string
	VCluster string
	Username string
	Groups   []string
	// ClientIP is the client's address; GatewayAddr the host:port it
	// connected to.
	ClientIP    string
	GatewayAddr string
	// Topics names topic ids, for requests that name topics by id
	// (Produce and Fetch from v13); nil when unknown.
	Topics interface {
		TopicName(id [16]byte) (string, bool)
	}
}

// TopicName returns a topic's name from a message naming it by name or by
// id; "" when neither is known.
func (c *Conn) TopicName(name string, id [16]byte) string {
	if name != "" || c.Topics == nil {
		return name
	}
	n, _ := c.Topics.TopicName(id)
	return n
}

// Call is one request passing through a chain, and its response. The
// interceptors of the chain see the same Call in both directions.
type Call struct {
	Conn    *Conn
	Key     int16
	Version int16
	// ClientID is the request header's client id (nil when absent). A
	// request interceptor may replace it; the gateway then rewrites the
	// header.
	ClientID *string
	// Start is when the request arrived.
	Start time.Time

	chain    *Chain
	step     int   // the step running
	state    []any // per step, from Keep
	blocked  *blocked
	throttle time.Duration
	delay    time.Duration
	response bool // the response half is running
}

// blocked is a refusal of the whole request or response.
type blocked struct {
	code   int16
	reason string
}

// Interceptor returns the name of the interceptor running.
func (c *Call) Interceptor() string { return c.chain.steps[c.step].Name }

// Keep stores a value for the running interceptor's response half.
func (c *Call) Keep(v any) {
	if c.state == nil {
		c.state = make([]any, len(c.chain.steps))
	}
	c.state[c.step] = v
}

// Kept returns what the running interceptor kept in the request half.
func (c *Call) Kept() any {
	if c.state == nil {
		return nil
	}
	return c.state[c.step]
}

// Block refuses the whole request with a Kafka error code; reason is the
// message the client sees where the protocol carries one. In the request
// half the gateway answers without asking the broker and no later
// interceptor runs; in the response half every error code of the response
// is set. topic names what the refusal is about, if anything.
func (c *Call) Block(code int16, topic, reason string) {
	if c.blocked == nil {
		c.blocked = &blocked{code: code, reason: Refused(c, reason)}
	}
	c.Report(Block, topic, reason)
}

// Blocked reports whether the call has been refused.
func (c *Call) Blocked() bool { return c.blocked != nil }

// Throttle holds the response back by d and sets its throttle time, so
// clients back off whether or not they read the field; the longest
// throttle of the chain wins.
func (c *Call) Throttle(d time.Duration, topic, reason string) {
	c.throttle = max(c.throttle, d)
	c.Report(Throttle, topic, reason)
}

// Throttled returns the throttle time of the response.
func (c *Call) Throttled() time.Duration { return c.throttle }

// Delay holds the response back by d without telling the client, as a
// slow broker would; the longest delay of the chain wins. It reports
// nothing: chaos interceptors delay on purpose.
func (c *Call) Delay(d time.Duration) { c.delay = max(c.delay, d) }

// Delayed returns how long after the request arrived the response may be
// written.
func (c *Call) Delayed() time.Duration { return c.delay }

// Report records an action of the running interceptor.
func (c *Call) Report(a Action, topic, reason string) {
	if c.chain.reporter == nil {
		return
	}
	s := c.chain.steps[c.step]
	c.chain.reporter.Report(Event{
		Action: a, Plugin: s.Plugin, Interceptor: s.Name,
		ConnID: c.Conn.ID, VCluster: c.Conn.VCluster, Username: c.Conn.Username, ClientIP: c.Conn.ClientIP,
		Key: c.Key, Topic: topic, Reason: reason,
	})
}

// Audit reports that the running interceptor saw a request it was asked
// to record (AuditPlugin): the topic, the partitions of it the request
// names and the consumer group, when it has one.
func (c *Call) Audit(topic string, partitions []int32, group string) {
	if c.chain.reporter == nil {
		return
	}
	s := c.chain.steps[c.step]
	c.chain.reporter.Report(Event{
		Action: Audited, Plugin: s.Plugin, Interceptor: s.Name,
		ConnID: c.Conn.ID, VCluster: c.Conn.VCluster, Username: c.Conn.Username, ClientIP: c.Conn.ClientIP,
		Key: c.Key, Topic: topic, Partitions: partitions, Group: group,
	})
}

// Request runs the chain's request interceptors on req, in order, until one
// blocks. It reports whether the request is still to be forwarded; when it
// is not, Refusal answers it.
func (c *Call) Request(req kmsg.Request) bool {
	for i := range c.chain.steps {
		if c.blocked != nil {
			break
		}
		if c.chain.steps[i].requests.has(c.Key) {
			c.step = i
			c.chain.steps[i].Interceptor.Request(c, req)
		}
	}
	return c.blocked == nil
}

// Refusal returns the answer to a request the chain blocked.
func (c *Call) Refusal(req kmsg.Request) kmsg.Response {
	return ErrorResponse(req, c.blocked.code, c.blocked.reason)
}

// HasResponse reports whether any interceptor of the chain sees the
// response.
func (c *Call) HasResponse() bool { return c.chain.responses.has(c.Key) }

// Response runs the chain's response interceptors on resp, in priority
// order like requests, sets its throttle time when the call was
// throttled, and applies a refusal from the response half.
func (c *Call) Response(resp kmsg.Response) {
	c.response = true
	blockedBefore := c.blocked != nil
	for i := range c.chain.steps {
		if c.chain.steps[i].responses.has(c.Key) {
			c.step = i
			c.chain.steps[i].Interceptor.Response(c, resp)
		}
	}
	if c.blocked != nil && !blockedBefore {
		FailResponse(resp, c.blocked.code, c.blocked.reason)
	}
	if c.throttle > 0 {
		SetThrottle(resp, c.throttle)
	}
}

// Event is one action of an interceptor, as reported.
type Event struct {
	Action      Action
	Plugin      string
	Interceptor string
	// ConnID is the connection's Conn.ID.
	ConnID   string
	VCluster string
	Username string
	ClientIP string
	Key      int16
	Topic    string
	Reason   string
	// Partitions and Group are what an Audited request names.
	Partitions []int32
	Group      string
}

// Reporter receives the actions of interceptors: the server sends them to
// the log, the metrics and the audit topic. It must not block.
type Reporter interface {
	Report(Event)
}

// Refused is the message a client sees for a request an interceptor
// refused.
func Refused(c *Call, reason string) string {
	return fmt.Sprintf("refused by gateway policy %s: %s", c.Interceptor(), reason)
}
