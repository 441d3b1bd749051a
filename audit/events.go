package audit

import "encoding/json"

// Principal is who a client is, as the gateway decided.
type Principal struct {
	VCluster  string   `json:"vcluster,omitempty"`
	Username  string   `json:"username,omitempty"`
	Groups    []string `json:"groups,omitempty"`
	Mechanism string   `json:"mechanism,omitempty"`
}

// Connection identifies a client connection in every event about it.
type Connection struct {
	// ID is unique within the gateway cluster and is the event subject.
	ID string `json:"id"`
	// ClientAddress is the client's host:port.
	ClientAddress string `json:"clientAddress,omitempty"`
	// Listener is the gateway host:port the client connected to.
	Listener string `json:"listener,omitempty"`
}

// ConnectionData is the data of ConnectionOpened and ConnectionClosed.
type ConnectionData struct {
	Connection Connection `json:"connection"`
	// Principal is set once the client is identified.
	Principal *Principal `json:"principal,omitempty"`
	// DurationMs and Reason are set on close; Reason is empty for an
	// orderly close.
	DurationMs int64  `json:"durationMs,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// AuthData is the data of AuthSucceeded and AuthFailed.
type AuthData struct {
	Connection Connection `json:"connection"`
	Mechanism  string     `json:"mechanism,omitempty"`
	// Principal is who the client became (success) or the name it
	// claimed, when the exchange got that far (failure).
	Principal *Principal `json:"principal,omitempty"`
	// Reason says why a failure failed. It never holds a credential.
	Reason string `json:"reason,omitempty"`
}

// AdminData is the data of AdminChanged. Before and After are the
// resource's documents with every secret redacted; Before is absent for a
// creation and After for a deletion.
type AdminData struct {
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Caller   string          `json:"caller"`
	Result   string          `json:"result"`
	Resource ResourceRef     `json:"resource"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// ResourceRef names a resource: its kind and its identity (the config
// record key for declarative resources).
type ResourceRef struct {
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	Key  string `json:"key,omitempty"`
}

// ConfigData is the data of ConfigApplied and ConfigRejected.
type ConfigData struct {
	Topic  string `json:"topic"`
	Offset int64  `json:"offset"`
	Key    string `json:"key"`
	// Operation is "upsert" or "delete" (a tombstone).
	Operation string `json:"operation"`
	// Value is the record's document with secrets redacted, when it is
	// a JSON object.
	Value json.RawMessage `json:"value,omitempty"`
	// Reason says why the record was rejected.
	Reason string `json:"reason,omitempty"`
	// Startup marks a rejection found while the node loaded the topic at
	// start-up rather than as the record arrived.
	Startup bool `json:"startup,omitempty"`
}

// InterceptorData is the data of the interceptor events and of
// RequestAudited.
type InterceptorData struct {
	// Connection carries the id and the client's IP address; the
	// connection's opened event has its port and listener.
	Connection  Connection `json:"connection"`
	Principal   Principal  `json:"principal"`
	Interceptor string     `json:"interceptor"`
	Plugin      string     `json:"plugin"`
	// APIKey is the Kafka API's name, e.g. CreateTopics.
	APIKey     string  `json:"apiKey"`
	Topic      string  `json:"topic,omitempty"`
	Partitions []int32 `json:"partitions,omitempty"`
	GroupID    string  `json:"groupId,omitempty"`
	Reason     string  `json:"reason,omitempty"`
}
