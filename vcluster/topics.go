package vcluster

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file holds what every rule that names topics shares: renaming a
// response's topics, refusing some entries of a request without the broker
// ("partial denial"), and guarding Strait's internal topics.

// tMaxTopicLen is the longest topic name Kafka accepts.
const tMaxTopicLen = 249

// tRename turns the physical topic *name of a response into its logical
// name; it reports false, leaving *name alone, when the topic is not part
// of the space and the entry must be dropped.
func tRename(x *Exchange, name *string) bool {
	l, ok := x.logicalTopic(*name)
	if ok {
		*name = l
	}
	return ok
}

// tRefused holds the response entries for the request entries a rule
// refused, in logical terms, until the response half appends them.
type tRefused[T any] []T

// tSplit removes from s the entries refuse turns down and returns the
// rest along with refuse's answers for them.
func tSplit[R, A any](s []R, refuse func(*R) (A, bool)) ([]R, []A) {
	var refused []A
	kept := retain(s, func(r *R) bool {
		a, no := refuse(r)
		if no {
			refused = append(refused, a)
		}
		return !no
	})
	return kept, refused
}

// tRefuse leaves refused for the response half. When the request has no
// entries left to forward, the exchange answers it locally instead: the
// rule's response half runs on an empty response of the request's version.
func tRefuse[T any](x *Exchange, req kmsg.Request, left int, refused []T) error {
	x.state = tRefused[T](refused)
	if left > 0 || len(refused) == 0 {
		return nil
	}
	x.Local = req.ResponseKind()
	return x.Response(x.Local)
}

// tRefusedEntries returns what tRefuse left for the response half.
func tRefusedEntries[T any](x *Exchange) []T {
	r, _ := x.state.(tRefused[T])
	return r
}

// tGuardInternal refuses a passthrough client changing one of Strait's
// internal topics (tenants cannot name them at all): it returns the error
// code and message to answer with, or 0 when the change may go ahead.
func tGuardInternal(x *Exchange, topic string) (int16, *string) {
	if !x.Space.IsPassthrough() || !strings.HasPrefix(topic, InternalPrefix) {
		return 0, nil
	}
	return kerr.TopicAuthorizationFailed.Code, kmsg.StringPtr(fmt.Sprintf("Topic %s belongs to Strait and cannot be changed by clients.", topic))
}

// tGuardShared refuses deleting or repartitioning a topic through an alias:
// the physical topic lies outside the virtual cluster and may be shared.
// It answers as tGuardInternal does.
func tGuardShared(x *Exchange, topic string) (int16, *string) {
	if code, msg := tGuardInternal(x, topic); code != 0 || !x.Space.IsAlias(topic) {
		return code, msg
	}
	return kerr.TopicAuthorizationFailed.Code, kmsg.StringPtr(fmt.Sprintf("Topic %s is an alias of a topic outside this virtual cluster; remove the AliasTopic instead.", topic))
}

// tGuardNewTopic refuses creating a topic the space cannot hold, answering
// as tGuardInternal does. In the passthrough space that is a name reserved
// for Strait's internal topics. In a tenant's it is a name Kafka refuses
// ("", ".", "..") but would accept once prefixed, or one too long once
// prefixed; the message speaks of the logical name.
func tGuardNewTopic(x *Exchange, topic string) (int16, *string) {
	if x.Space.IsPassthrough() {
		if strings.HasPrefix(topic, InternalPrefix) {
			return kerr.TopicAuthorizationFailed.Code, kmsg.StringPtr("Topic names starting with " + InternalPrefix + " are reserved for Strait's internal topics.")
		}
		return 0, nil
	}
	var msg string
	switch {
	case topic == "":
		msg = "Topic name is empty."
	case topic == "." || topic == "..":
		msg = "Topic name cannot be . or .."
	case len(x.Space.Topic(topic)) > tMaxTopicLen:
		msg = fmt.Sprintf("Topic name %s is too long: names in this virtual cluster have at most %d characters.", topic, tMaxTopicLen-len(x.Space.prefix))
	default:
		return 0, nil
	}
	return kerr.InvalidTopicException.Code, &msg
}
