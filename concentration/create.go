package concentration

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/vcluster"
)

// allowedConfigs are the topic configs a concentrated topic may set; the
// physical topic decides everything else.
var allowedConfigs = []string{"cleanup.policy", "retention.ms", "retention.bytes", "delete.retention.ms"}

// createError is a topic creation refused with a Kafka error and a
// message for the client.
type createError struct {
	err *kerr.Error
	msg string
}

func (e *createError) Error() string { return e.msg }

func refuse(err *kerr.Error, format string, args ...any) error {
	return &createError{err: err, msg: fmt.Sprintf(format, args...)}
}

// createTopics registers the topics of a CreateTopics that fall under a
// rule of the client's virtual cluster; the broker creates the rest.
func (x *Exchange) createTopics(ctx context.Context, r *kmsg.CreateTopicsRequest) error {
	rs := x.c.rules.Load()
	var results []kmsg.CreateTopicsResponseTopic
	kept := r.Topics[:0]
	for _, t := range r.Topics {
		logical, ok := x.space.LogicalTopic(t.Topic)
		rule := rs.match(x.space.Name(), logical)
		if !ok || rule == nil {
			kept = append(kept, t)
			continue
		}
		res := kmsg.NewCreateTopicsResponseTopic()
		res.Topic = t.Topic
		ct, err := x.c.create(ctx, x.space, rule, t, r.ValidateOnly)
		if err == nil {
			res.TopicID, res.NumPartitions = ct.ID, int32(len(ct.Partitions))
			res.ReplicationFactor = -1
			res.Configs = topicConfigs(ct)
		}
		var ce *createError
		switch {
		case errors.As(err, &ce):
			res.ErrorCode, res.ErrorMessage = ce.err.Code, kmsg.StringPtr(ce.msg)
		case err != nil:
			x.c.log.Warn("creating a concentrated topic failed", zap.String("topic", t.Topic), zap.Error(err))
			res.ErrorCode, res.ErrorMessage = kerr.UnknownServerError.Code, kmsg.StringPtr(err.Error())
		}
		results = append(results, res)
	}
	if results == nil {
		return nil
	}
	r.Topics = kept
	x.respond = func(resp kmsg.Response, _ []kmsg.Response) error {
		c := resp.(*kmsg.CreateTopicsResponse)
		c.Topics = append(c.Topics, results...)
		return nil
	}
	return nil
}

// create checks one topic creation against its rule and the physical
// topic, prepares the physical topic when the rule manages it, and
// registers the topic unless validateOnly.
func (c *Concentrator) create(ctx context.Context, space *vcluster.Space, rule *Rule, t kmsg.CreateTopicsRequestTopic, validateOnly bool) (*Topic, error) {
	if _, ok := c.view.Load().byName[t.Topic]; ok {
		return nil, refuse(kerr.TopicAlreadyExists, "topic %q already exists", t.Topic)
	}
	if len(t.ReplicaAssignment) > 0 {
		return nil, refuse(kerr.InvalidRequest, "a concentrated topic cannot take a replica assignment")
	}
	n := t.NumPartitions
	switch {
	case n == -1:
		n = 1
	case n <= 0:
		return nil, refuse(kerr.InvalidPartitions, "number of partitions must be positive, got %d", n)
	}
	configs := map[string]string{}
	for _, cfg := range t.Configs {
		if !slices.Contains(allowedConfigs, cfg.Name) {
			return nil, refuse(kerr.InvalidConfig, "config %q cannot be set on a concentrated topic; allowed: %s", cfg.Name, strings.Join(allowedConfigs, ", "))
		}
		if cfg.Value != nil {
			configs[cfg.Name] = *cfg.Value
		}
	}
	policy, err := canonicalPolicy(configs["cleanup.policy"])
	if err != nil {
		return nil, err
	}
	delete(configs, "cleanup.policy")
	for _, k := range []string{"retention.ms", "retention.bytes", "delete.retention.ms"} {
		if v, ok := configs[k]; ok {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return nil, refuse(kerr.InvalidConfig, "config %s: %q is not a number", k, v)
			}
		}
	}
	slot, ok := rule.Physical[policy]
	if !ok {
		return nil, refuse(kerr.InvalidConfig, "cleanup policy %q: concentration rule %q has no physical topic for it", policy, rule.Name)
	}
	physical := space.Topic(slot)
	ph, err := c.preparePhysical(ctx, rule, t.Topic, physical, policy, n, configs, validateOnly)
	if err != nil {
		return nil, err
	}
	ct := &Topic{Name: t.Topic, ID: NewID(), VCluster: rule.VCluster, Rule: rule.Name, Physical: physical,
		PhysicalID: ID(ph.ID), CleanupPolicy: policy, Configs: configs, Dense: rule.Dense && policy == "delete"}
	// Logical partitions start at a place drawn from the id, so the first
	// partitions of many topics spread over the physical ones.
	m := int32(len(ph.Partitions))
	start := int32(binary.BigEndian.Uint32(ct.ID[:4]) % uint32(m))
	for p := range n {
		ct.Partitions = append(ct.Partitions, (start+p)%m)
	}
	if validateOnly {
		return ct, nil
	}
	value, err := json.Marshal(ct)
	if err != nil {
		return nil, fmt.Errorf("concentration: encode topic %s: %w", ct.Name, err)
	}
	if err := c.registry.Put(ctx, []byte(ct.Name), value); err != nil {
		return nil, fmt.Errorf("concentration: register topic %s: %w", ct.Name, err)
	}
	c.log.Info("concentrated topic created", zap.String("topic", ct.Name), zap.String("physicalTopic", ct.Physical),
		zap.Int("partitions", len(ct.Partitions)), zap.String("rule", rule.Name))
	return ct, nil
}

// canonicalPolicy spells a cleanup.policy value the way the rule's slots
// are keyed; empty means delete.
func canonicalPolicy(v string) (string, error) {
	parts := strings.Split(strings.ReplaceAll(v, " ", ""), ",")
	if v == "" {
		parts = []string{"delete"}
	}
	sort.Strings(parts)
	p := strings.Join(slices.Compact(parts), ",")
	if !slices.Contains(policies, p) {
		return "", refuse(kerr.InvalidConfig, "cleanup policy %q is invalid: expect delete, compact or delete,compact", v)
	}
	return p, nil
}

// topicConfigs lists a concentrated topic's configs for CreateTopics v5+.
func topicConfigs(ct *Topic) []kmsg.CreateTopicsResponseTopicConfig {
	out := []kmsg.CreateTopicsResponseTopicConfig{{Name: "cleanup.policy", Value: kmsg.StringPtr(ct.CleanupPolicy), Source: 1}}
	for _, k := range slices.Sorted(maps.Keys(ct.Configs)) {
		out = append(out, kmsg.CreateTopicsResponseTopicConfig{Name: k, Value: kmsg.StringPtr(ct.Configs[k]), Source: 1})
	}
	return out
}
