// Package topicconfig holds the rules on topic configs that the
// create-topic and alter-config policies share: one optional rule per
// Kafka topic config, named as the policies' JSON configs name them
// (retentionMs for retention.ms).
package topicconfig

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strait-gateway/strait/interceptor"
)

// Fields are the rules, as a policy's config embeds them.
type Fields struct {
	CleanupPolicy                   *interceptor.OneOf `json:"cleanupPolicy" doc:"cleanup.policy; every listed policy must be one of values"`
	CompressionType                 *interceptor.OneOf `json:"compressionType" doc:"compression.type"`
	MessageTimestampType            *interceptor.OneOf `json:"messageTimestampType" doc:"message.timestamp.type: CreateTime or LogAppendTime"`
	DeleteRetentionMs               *interceptor.Range `json:"deleteRetentionMs"`
	FileDeleteDelayMs               *interceptor.Range `json:"fileDeleteDelayMs"`
	FlushMessages                   *interceptor.Range `json:"flushMessages"`
	FlushMs                         *interceptor.Range `json:"flushMs"`
	IndexIntervalBytes              *interceptor.Range `json:"indexIntervalBytes"`
	MaxCompactionLagMs              *interceptor.Range `json:"maxCompactionLagMs"`
	MaxMessageBytes                 *interceptor.Range `json:"maxMessageBytes"`
	MessageTimestampDifferenceMaxMs *interceptor.Range `json:"messageTimestampDifferenceMaxMs"`
	MinCleanableDirtyRatio          *interceptor.Range `json:"minCleanableDirtyRatio"`
	MinCompactionLagMs              *interceptor.Range `json:"minCompactionLagMs"`
	MinInsyncReplicas               *interceptor.Range `json:"minInsyncReplicas"`
	RetentionBytes                  *interceptor.Range `json:"retentionBytes"`
	RetentionMs                     *interceptor.Range `json:"retentionMs"`
	SegmentBytes                    *interceptor.Range `json:"segmentBytes"`
	SegmentIndexBytes               *interceptor.Range `json:"segmentIndexBytes"`
	SegmentJitterMs                 *interceptor.Range `json:"segmentJitterMs"`
	SegmentMs                       *interceptor.Range `json:"segmentMs"`
	Preallocate                     *interceptor.Flag  `json:"preallocate"`
	UncleanLeaderElectionEnable     *interceptor.Flag  `json:"uncleanLeaderElectionEnable"`
	MessageDownconversionEnable     *interceptor.Flag  `json:"messageDownconversionEnable"`
}

// Rules are the configured rules by Kafka config name.
type Rules map[string]rule

type rule struct {
	field  string // JSON name, for messages and config errors
	ranged *interceptor.Range
	oneOf  *interceptor.OneOf
	flag   *interceptor.Flag
}

// Rules returns the rules that are set. allowed lists the actions the
// policy supports; a rule with another action is a config error.
func (f *Fields) Rules(allowed ...interceptor.Action) (Rules, error) {
	r := Rules{}
	add := func(config, field string, x rule) error {
		x.field = field
		var a interceptor.Action
		switch {
		case x.ranged != nil:
			a = x.ranged.Action
		case x.oneOf != nil:
			a = x.oneOf.Action
		case x.flag != nil:
			a = x.flag.Action
			if a.Or(interceptor.Block) == interceptor.Override {
				break // the override of a flag is its value
			}
		default:
			return nil
		}
		if err := interceptor.CheckAction(field+".action", a, allowed...); err != nil {
			return err
		}
		r[config] = x
		return nil
	}
	for _, x := range []struct {
		config, field string
		rule
	}{
		{"cleanup.policy", "cleanupPolicy", rule{oneOf: f.CleanupPolicy}},
		{"compression.type", "compressionType", rule{oneOf: f.CompressionType}},
		{"message.timestamp.type", "messageTimestampType", rule{oneOf: f.MessageTimestampType}},
		{"delete.retention.ms", "deleteRetentionMs", rule{ranged: f.DeleteRetentionMs}},
		{"file.delete.delay.ms", "fileDeleteDelayMs", rule{ranged: f.FileDeleteDelayMs}},
		{"flush.messages", "flushMessages", rule{ranged: f.FlushMessages}},
		{"flush.ms", "flushMs", rule{ranged: f.FlushMs}},
		{"index.interval.bytes", "indexIntervalBytes", rule{ranged: f.IndexIntervalBytes}},
		{"max.compaction.lag.ms", "maxCompactionLagMs", rule{ranged: f.MaxCompactionLagMs}},
		{"max.message.bytes", "maxMessageBytes", rule{ranged: f.MaxMessageBytes}},
		{"message.timestamp.difference.max.ms", "messageTimestampDifferenceMaxMs", rule{ranged: f.MessageTimestampDifferenceMaxMs}},
		{"min.cleanable.dirty.ratio", "minCleanableDirtyRatio", rule{ranged: f.MinCleanableDirtyRatio}},
		{"min.compaction.lag.ms", "minCompactionLagMs", rule{ranged: f.MinCompactionLagMs}},
		{"min.insync.replicas", "minInsyncReplicas", rule{ranged: f.MinInsyncReplicas}},
		{"retention.bytes", "retentionBytes", rule{ranged: f.RetentionBytes}},
		{"retention.ms", "retentionMs", rule{ranged: f.RetentionMs}},
		{"segment.bytes", "segmentBytes", rule{ranged: f.SegmentBytes}},
		{"segment.index.bytes", "segmentIndexBytes", rule{ranged: f.SegmentIndexBytes}},
		{"segment.jitter.ms", "segmentJitterMs", rule{ranged: f.SegmentJitterMs}},
		{"segment.ms", "segmentMs", rule{ranged: f.SegmentMs}},
		{"preallocate", "preallocate", rule{flag: f.Preallocate}},
		{"unclean.leader.election.enable", "uncleanLeaderElectionEnable", rule{flag: f.UncleanLeaderElectionEnable}},
		{"message.downconversion.enable", "messageDownconversionEnable", rule{flag: f.MessageDownconversionEnable}},
	} {
		if err := add(x.config, x.field, x.rule); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Violation is a config value that breaks its rule.
type Violation struct {
	Config string
	Action interceptor.Action
	Reason string
	// Override is the value to write instead, with action OVERRIDE.
	Override string
}

// Check checks one config value; ok is true when it breaks no rule. A
// value Kafka cannot parse is left to the broker to refuse.
func (r Rules) Check(config, value string) (v Violation, ok bool) {
	x, found := r[config]
	if !found {
		return v, true
	}
	v.Config = config
	switch {
	case x.ranged != nil:
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || x.ranged.Allows(n) {
			return v, true
		}
		v.Action = x.ranged.Action.Or(interceptor.Block)
		v.Reason = fmt.Sprintf("%s is %s, must be %s", config, value, x.ranged.Bounds())
		if x.ranged.OverrideValue != nil {
			v.Override = strconv.FormatFloat(*x.ranged.OverrideValue, 'f', -1, 64)
		}
	case x.oneOf != nil:
		bad := false
		for _, part := range strings.Split(value, ",") {
			bad = bad || !x.oneOf.Allows(strings.TrimSpace(part))
		}
		if !bad {
			return v, true
		}
		v.Action = x.oneOf.Action.Or(interceptor.Block)
		v.Reason = fmt.Sprintf("%s is %s, must be one of %s", config, value, strings.Join(x.oneOf.Values, ", "))
		v.Override = x.oneOf.OverrideValue
	case x.flag != nil:
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil || b == x.flag.Value {
			return v, true
		}
		v.Action = x.flag.Action.Or(interceptor.Block)
		v.Reason = fmt.Sprintf("%s is %s, must be %t", config, value, x.flag.Value)
		v.Override = strconv.FormatBool(x.flag.Value)
	}
	return v, false
}
