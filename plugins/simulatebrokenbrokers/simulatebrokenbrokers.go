// Package simulatebrokenbrokers is the SimulateBrokenBrokers chaos
// interceptor: a share of Produce and Fetch requests is answered by the
// gateway with a Kafka error, as a failing broker would answer, so that
// teams can see how their clients cope.
//
// The error is given in the request half, before the broker sees the
// request: a refused produce writes nothing. Failing the broker's response
// instead would tell the client its write failed when Kafka kept it, which
// is a lost acknowledgement, not a broken broker.
package simulatebrokenbrokers

import (
	_ "embed"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/interceptor"
)

//go:embed README.md
var readme string

func init() {
	interceptor.Register(interceptor.Define("SimulateBrokenBrokers",
		"Chaos: answers a share of Produce and Fetch requests with a Kafka error",
		readme, newChaos,
		"io.conduktor.gateway.interceptor.chaos.SimulateBrokenBrokersPlugin"))
}

// Config is the plugin's config.
type Config struct {
	RateInPercent *int              `json:"rateInPercent" doc:"share of Produce and Fetch requests to fail, 0 to 100"`
	ErrorMap      map[string]string `json:"errorMap" doc:"API (PRODUCE, FETCH) to the Kafka error name it fails with"`
}

// allowed lists, per API, the errors Kafka answers it with: a produce
// error the producer retries or gives up on, a fetch error the consumer
// recognises (the Java consumer throws on any other, as on a protocol
// violation).
var allowed = map[int16][]*kerr.Error{
	kmsg.Produce.Int16(): {
		kerr.UnknownServerError, kerr.CorruptMessage, kerr.UnknownTopicOrPartition, kerr.LeaderNotAvailable,
		kerr.NotLeaderForPartition, kerr.RequestTimedOut, kerr.MessageTooLarge, kerr.RecordListTooLarge,
		kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.InvalidRequiredAcks,
		kerr.TopicAuthorizationFailed, kerr.KafkaStorageError, kerr.InvalidRecord, kerr.InvalidTimestamp,
	},
	kmsg.Fetch.Int16(): {
		kerr.UnknownServerError, kerr.CorruptMessage, kerr.UnknownTopicOrPartition, kerr.NotLeaderForPartition,
		kerr.ReplicaNotAvailable, kerr.OffsetOutOfRange, kerr.OffsetNotAvailable, kerr.TopicAuthorizationFailed,
		kerr.KafkaStorageError, kerr.FencedLeaderEpoch, kerr.UnknownLeaderEpoch, kerr.UnknownTopicID,
		kerr.InconsistentTopicID,
	},
}

// defaults is the errorMap when none is configured.
var defaults = map[int16]*kerr.Error{
	kmsg.Fetch.Int16():   kerr.UnknownServerError,
	kmsg.Produce.Int16(): kerr.CorruptMessage,
}

// name returns the name an error is configured by. Kafka renamed
// NOT_LEADER_FOR_PARTITION to NOT_LEADER_OR_FOLLOWER; both are accepted.
func name(e *kerr.Error) []string {
	if e == kerr.NotLeaderForPartition {
		return []string{"NOT_LEADER_OR_FOLLOWER", e.Message}
	}
	return []string{e.Message}
}

type chaos struct {
	interceptor.Base
	rate   int
	errors map[int16]*kerr.Error // by API key
	roll   func(n int) int       // random number in [0, n)
}

func newChaos(cfg *Config, _ interceptor.Env) (interceptor.Interceptor, error) {
	if cfg.RateInPercent == nil {
		return nil, interceptor.Invalid("rateInPercent", "is required")
	}
	if r := *cfg.RateInPercent; r < 0 || r > 100 {
		return nil, interceptor.Invalid("rateInPercent", "%d is not between 0 and 100", r)
	}
	c := &chaos{rate: *cfg.RateInPercent, errors: defaults, roll: rand.IntN}
	if cfg.ErrorMap != nil {
		c.errors = map[int16]*kerr.Error{}
	}
	for api, code := range cfg.ErrorMap {
		field := "errorMap." + api
		var key int16
		switch strings.ToUpper(api) {
		case "PRODUCE":
			key = kmsg.Produce.Int16()
		case "FETCH":
			key = kmsg.Fetch.Int16()
		default:
			return nil, interceptor.Invalid(field, "unknown API; expect PRODUCE or FETCH")
		}
		i := slices.IndexFunc(allowed[key], func(e *kerr.Error) bool {
			return slices.Contains(name(e), strings.ToUpper(code))
		})
		if i < 0 {
			return nil, interceptor.Invalid(field, "%q is not an error a broker answers %s with; expect one of %s",
				code, strings.ToUpper(api), strings.Join(names(key), ", "))
		}
		c.errors[key] = allowed[key][i]
	}
	return c, nil
}

// names lists the error names allowed for an API, sorted.
func names(key int16) []string {
	var out []string
	for _, e := range allowed[key] {
		out = append(out, name(e)...)
	}
	sort.Strings(out)
	return out
}

func (c *chaos) Subscribe() interceptor.Subscription {
	var keys []int16
	for k := range c.errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return interceptor.Subscription{Requests: keys}
}

// Request fails the request with its API's error, at the configured rate.
func (c *chaos) Request(call *interceptor.Call, _ kmsg.Request) {
	e, ok := c.errors[call.Key]
	if !ok || c.roll(100) >= c.rate {
		return
	}
	call.Block(e.Code, "", "simulated broken broker: "+name(e)[0])
}
