package concentration

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"
)

// physicalMaxMessageBytes is the max.message.bytes of physical topics the
// gateway creates: room for 1 MiB producer batches of records as small as
// 60 bytes once tagged.
const physicalMaxMessageBytes = "2097152"

// preparePhysical checks the physical topic a new concentrated topic
// would live on: it must exist with the slot's cleanup policy, enough
// retention and, for an auto-managed rule, it is created or extended
// (partitions, retention) to fit. name is the new topic's backing name,
// which must not be a physical topic already.
func (c *Concentrator) preparePhysical(ctx context.Context, rule *Rule, name, physical, policy string, n int32, configs map[string]string, validateOnly bool) (kadm.TopicDetail, error) {
	details, err := c.adm.ListTopics(ctx, name, physical)
	if err != nil {
		return kadm.TopicDetail{}, fmt.Errorf("concentration: describe %s: %w", physical, err)
	}
	if d, ok := details[name]; ok && d.Err == nil {
		return kadm.TopicDetail{}, refuse(kerr.TopicAlreadyExists, "topic %q already exists", name)
	}
	d, ok := details[physical]
	exists := ok && d.Err == nil
	switch {
	case !exists && !rule.AutoManaged:
		return d, refuse(kerr.InvalidConfig, "physical topic %q of concentration rule %q does not exist; create it with cleanup.policy=%s, or make the rule autoManaged", physical, rule.Name, policy)
	case !exists && validateOnly:
		return kadm.TopicDetail{Partitions: make(kadm.PartitionDetails, n)}, nil
	case !exists:
		// The tags add some 60 bytes to every record, so a producer's
		// batch at the usual 1 MiB limit would no longer fit.
		want := map[string]*string{"cleanup.policy": kadm.StringPtr(policy), "max.message.bytes": kadm.StringPtr(physicalMaxMessageBytes)}
		for _, k := range []string{"retention.ms", "retention.bytes"} {
			if v, ok := configs[k]; ok {
				want[k] = kadm.StringPtr(v)
			}
		}
		resp, err := c.adm.CreateTopic(ctx, n, -1, want, physical)
		if err == nil && resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			err = resp.Err
		}
		if err != nil {
			return d, fmt.Errorf("concentration: create physical topic %s: %w", physical, err)
		}
		c.log.Info("physical topic created for concentration", zap.String("topic", physical), zap.String("rule", rule.Name))
		return c.describePhysical(ctx, physical)
	}
	if err := c.checkPhysicalConfigs(ctx, rule, physical, policy, configs, validateOnly); err != nil {
		return d, err
	}
	if rule.AutoManaged && int(n) > len(d.Partitions) && !validateOnly {
		resp, err := c.adm.UpdatePartitions(ctx, int(n), physical)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return d, fmt.Errorf("concentration: extend physical topic %s to %d partitions: %w", physical, n, err)
		}
		return c.describePhysical(ctx, physical)
	}
	return d, nil
}

// describePhysical reads a physical topic's partitions and id, waiting
// briefly for a topic created a moment ago to show up.
func (c *Concentrator) describePhysical(ctx context.Context, physical string) (kadm.TopicDetail, error) {
	for {
		details, err := c.adm.ListTopics(ctx, physical)
		if err != nil {
			return kadm.TopicDetail{}, fmt.Errorf("concentration: describe %s: %w", physical, err)
		}
		if d, ok := details[physical]; ok && d.Err == nil && len(d.Partitions) > 0 {
			return d, nil
		}
		if err := sleep(ctx); err != nil {
			return kadm.TopicDetail{}, fmt.Errorf("concentration: physical topic %s not ready: %w", physical, err)
		}
	}
}

// checkPhysicalConfigs compares the physical topic's cleanup policy and
// retention with what the new topic asks for; an auto-managed rule raises
// the physical retention instead of refusing.
func (c *Concentrator) checkPhysicalConfigs(ctx context.Context, rule *Rule, physical, policy string, configs map[string]string, validateOnly bool) error {
	rcs, err := c.adm.DescribeTopicConfigs(ctx, physical)
	if err != nil {
		return fmt.Errorf("concentration: configs of %s: %w", physical, err)
	}
	rc, err := rcs.On(physical, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return fmt.Errorf("concentration: configs of %s: %w", physical, err)
	}
	have := map[string]string{}
	for _, cfg := range rc.Configs {
		have[cfg.Key] = cfg.MaybeValue()
	}
	if got, _ := canonicalPolicy(have["cleanup.policy"]); got != policy {
		return refuse(kerr.InvalidConfig, "physical topic %q has cleanup.policy %q but rule %q keeps %s topics on it", physical, have["cleanup.policy"], rule.Name, policy)
	}
	var raise []kadm.AlterConfig
	for _, k := range []string{"retention.ms", "retention.bytes"} {
		v, ok := configs[k]
		if !ok || !exceeds(v, have[k]) {
			continue
		}
		if !rule.AutoManaged {
			return refuse(kerr.InvalidConfig, "value %s for configuration %s exceeds the physical topic's %s (%s)", v, k, have[k], physical)
		}
		raise = append(raise, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
	}
	if len(raise) == 0 || validateOnly {
		return nil
	}
	resp, err := c.adm.AlterTopicConfigs(ctx, raise, physical)
	if err == nil {
		_, err = resp.On(physical, nil)
	}
	if err != nil {
		return fmt.Errorf("concentration: raise retention of %s: %w", physical, err)
	}
	return nil
}

// exceeds reports whether a requested retention is longer than the
// physical topic's; -1 is unlimited.
func exceeds(want, have string) bool {
	w, err1 := strconv.ParseInt(want, 10, 64)
	h, err2 := strconv.ParseInt(have, 10, 64)
	if err1 != nil || err2 != nil || h < 0 {
		return false
	}
	return w < 0 || w > h
}

// sleep waits a moment between two looks at the backing cluster.
func sleep(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(100 * time.Millisecond):
		return nil
	}
}
