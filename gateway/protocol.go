package gateway

import (
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxKeys bounds the API key tables below. Kafka's keys are small numbers
// (under a hundred today); a frame naming a key at or above this bound is
// treated like any key the gateway does not know.
const maxKeys = 256

// never marks a version threshold that no version reaches.
const never = math.MaxInt16

// Well-known API keys the frame path treats specially.
const (
	keyProduce          int16 = 0
	keyFetch            int16 = 1
	keyMetadata         int16 = 3
	keyFindCoordinator  int16 = 10
	keyApiVersions      int16 = 18
	keyDescribeQuorum   int16 = 55
	keyDescribeCluster  int16 = 60
	keyShareFetch       int16 = 78
	keyShareAcknowledge int16 = 79
)

// protocol holds, per API key, what the gateway knows from franz-go's kmsg:
// the newest version it can parse and the first version whose request and
// response headers carry tagged fields. It is computed once at start-up so
// the frame path only indexes arrays.
var protocol = buildProtocolTable()

type keyInfo struct {
	known        bool  // kmsg has types for this key
	maxVersion   int16 // newest version kmsg can parse
	flexibleFrom int16 // first version with flexible (tagged) headers
	inspectFrom  int16 // first version whose response the gateway must decode
}

func buildProtocolTable() (t [maxKeys]keyInfo) {
	for k := range t {
		t[k] = keyInfo{maxVersion: -1, flexibleFrom: never, inspectFrom: never}
		req := kmsg.RequestForKey(int16(k))
		if req == nil {
			continue
		}
		t[k].known = true
		t[k].maxVersion = req.MaxVersion()
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			if req.IsFlexible() {
				t[k].flexibleFrom = v
				break
			}
		}
	}
	// Responses that name brokers, and the version each starts doing so.
	t[keyMetadata].inspectFrom = 0
	t[keyFindCoordinator].inspectFrom = 0
	t[keyApiVersions].inspectFrom = 0
	t[keyDescribeCluster].inspectFrom = 0
	t[keyProduce].inspectFrom = 10 // KIP-951 node endpoints
	t[keyFetch].inspectFrom = 16   // KIP-951 node endpoints
	t[keyDescribeQuorum].inspectFrom = 2
	t[keyShareFetch].inspectFrom = 0
	t[keyShareAcknowledge].inspectFrom = 0
	return t
}

// info returns what the gateway knows of an API key; unknown keys get the
// zero-knowledge entry.
func info(key int16) keyInfo {
	if key < 0 || int(key) >= maxKeys {
		return keyInfo{maxVersion: -1, flexibleFrom: never, inspectFrom: never}
	}
	return protocol[key]
}

// flexibleRequestHeader reports whether a request of this key and version
// uses request header v2 (client id followed by tagged fields).
func flexibleRequestHeader(key, version int16) bool {
	return version >= info(key).flexibleFrom
}

// flexibleResponseHeader reports whether a response carries tagged fields
// after its correlation id. ApiVersions responses never do, so that a client
// can always parse the answer to a version it guessed.
func flexibleResponseHeader(key, version int16) bool {
	return key != keyApiVersions && version >= info(key).flexibleFrom
}

// inspectResponse reports whether the gateway must decode the response to a
// request of this key and version (because it may name brokers).
func inspectResponse(key, version int16) bool {
	return version >= info(key).inspectFrom
}
