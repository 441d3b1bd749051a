package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"
)

// errLater marks a topic creation that failed for a passing reason (the
// backing cluster unreachable) and is worth retrying.
var errLater = errors.New("retry later")

// createTopic creates the audit topic, append-only with time retention,
// when it does not exist, and warns when an existing one is compacted (a
// compacted audit topic keeps only the last event of each connection).
func createTopic(ctx context.Context, adm *kadm.Client, cfg Config) error {
	configs := map[string]*string{
		"cleanup.policy": kadm.StringPtr("delete"),
		"retention.ms":   kadm.StringPtr(strconv.FormatInt(cfg.Retention.Milliseconds(), 10)),
	}
	resp, err := adm.CreateTopic(ctx, cfg.Partitions, cfg.ReplicationFactor, configs, cfg.Topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		cfg.Log.Info("audit topic created", zap.String("topic", cfg.Topic), zap.Int32("partitions", cfg.Partitions),
			zap.Duration("retention", cfg.Retention))
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		checkExisting(ctx, adm, cfg)
		return nil
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		// The topic may have been created for the gateway, which may
		// only write it: events flow if so, and are counted as failed if
		// not.
		cfg.Log.Warn("the gateway may not create the audit topic; it must exist and be writable by the gateway", zap.String("topic", cfg.Topic), zap.Error(err))
		return nil
	case slices.ContainsFunc(badSettings, func(e *kerr.Error) bool { return errors.Is(err, e) }):
		return fmt.Errorf("audit: create topic %s: %w", cfg.Topic, err)
	}
	// The cluster is unreachable, refuses the gateway's credentials (which
	// the config topic reports too) or is busy.
	return fmt.Errorf("audit: create topic %s: %w: %w", cfg.Topic, errLater, err)
}

// badSettings are the refusals of the topic's own settings: retrying
// cannot help, and the node does not start.
var badSettings = []*kerr.Error{kerr.InvalidPartitions, kerr.InvalidReplicationFactor, kerr.InvalidConfig,
	kerr.InvalidTopicException, kerr.PolicyViolation, kerr.InvalidReplicaAssignment}

// createLater retries a topic creation that failed for a passing reason
// until it succeeds, fails for good, or ctx ends. Events wait in the
// buffer meanwhile.
func createLater(ctx context.Context, adm *kadm.Client, cfg Config) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := createTopic(tctx, adm, cfg)
		cancel()
		switch {
		case err == nil:
			return
		case !errors.Is(err, errLater):
			cfg.Log.Error("audit topic cannot be created; events are dropped once the buffer is full", zap.Error(err))
			return
		}
	}
}

func checkExisting(ctx context.Context, adm *kadm.Client, cfg Config) {
	rcs, err := adm.DescribeTopicConfigs(ctx, cfg.Topic)
	if err != nil {
		return
	}
	rc, err := rcs.On(cfg.Topic, nil)
	if err != nil {
		return
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && strings.Contains(c.MaybeValue(), "compact") {
			cfg.Log.Warn("the audit topic is compacted, so older events of a connection or resource are removed; set cleanup.policy=delete",
				zap.String("topic", cfg.Topic), zap.String("cleanup.policy", c.MaybeValue()))
		}
	}
}

// CreateTopic creates the audit topic when it is missing. Settings the
// cluster refuses (partitions, replication factor) are an error; when the
// cluster cannot be reached or refuses the gateway's credentials, the
// topic is created in the background until the log is closed, and events
// wait in the buffer meanwhile.
func (l *Log) CreateTopic(ctx context.Context) error {
	adm := kadm.NewClient(l.client)
	err := createTopic(ctx, adm, l.cfg)
	if errors.Is(err, errLater) {
		l.cfg.Log.Warn("audit topic not created yet; retrying in the background, events wait in the buffer", zap.Error(err))
		go createLater(l.stopCtx, adm, l.cfg)
		return nil
	}
	return err
}
