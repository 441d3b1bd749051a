// Package audit writes Strait's audit log: every security-relevant event
// (connections, authentication, admin API changes, config records applied
// or rejected, interceptor actions) becomes a CloudEvents 1.0 JSON record
// on the audit topic, which any Kafka consumer can read.
//
// Emitting never blocks the frame path. Events go to a bounded buffer that
// an asynchronous producer sends in batches; while the backing cluster is
// unreachable they wait there up to the bound, and events past it are
// dropped, counted in strait_audit_events_dropped_total and logged.
package audit

// Type is a CloudEvents type: what happened. The catalogue below is the
// complete list a consumer can expect; each type's data shape is documented
// in the README.
type Type string

// The event catalogue.
const (
	// ConnectionOpened: a client connected to a listener.
	ConnectionOpened Type = "io.strait.connection.opened"
	// ConnectionClosed: a client connection ended, for whatever reason.
	ConnectionClosed Type = "io.strait.connection.closed"
	// AuthSucceeded: a client proved who it is (SASL or TLS certificate).
	AuthSucceeded Type = "io.strait.auth.succeeded"
	// AuthFailed: a client's credentials or identity were refused.
	AuthFailed Type = "io.strait.auth.failed"
	// AdminChanged: an admin API call changed state.
	AdminChanged Type = "io.strait.admin.changed"
	// ConfigApplied: a node applied a config topic record.
	ConfigApplied Type = "io.strait.config.applied"
	// ConfigRejected: a node refused a config topic record.
	ConfigRejected Type = "io.strait.config.rejected"
	// InterceptorBlocked, InterceptorInfo, InterceptorOverridden and
	// InterceptorThrottled: an interceptor acted on a request.
	InterceptorBlocked    Type = "io.strait.interceptor.blocked"
	InterceptorInfo       Type = "io.strait.interceptor.info"
	InterceptorOverridden Type = "io.strait.interceptor.overridden"
	InterceptorThrottled  Type = "io.strait.interceptor.throttled"
	// RequestAudited: AuditPlugin recorded a request it was configured to.
	RequestAudited Type = "io.strait.request.audited"
	// EncryptionFailed: records of a produce request could not be
	// encrypted, so the partition was refused. DecryptionFailed: records
	// of a fetch could not be decrypted (they went to the client
	// encrypted, or the partition failed, as the interceptor's
	// errorPolicy says).
	EncryptionFailed Type = "io.strait.encryption.failed"
	DecryptionFailed Type = "io.strait.decryption.failed"
)

// Event is one thing to record. Subject names what the event is about: a
// connection id for connection, authentication and interceptor events, the
// resource for admin and config events. It is also the record key, so the
// events of one subject stay in order.
type Event struct {
	Type    Type
	Subject string
	// Data is the event's payload, marshalled as JSON.
	Data any
}

// Emitter takes events. It must not block.
type Emitter interface {
	Emit(Event)
}

// Discard is the Emitter of a gateway without an audit log.
var Discard Emitter = discard{}

type discard struct{}

func (discard) Emit(Event) {}
