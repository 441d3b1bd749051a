package concentration

import (
	"encoding/json"
	"fmt"

	"github.com/strait-gateway/strait/store"
)

// commit is a consumer group's committed offset on one concentrated
// partition. The broker cannot keep it (the topic does not exist there),
// so the gateway keeps it in a compacted topic of its own.
type commit struct {
	Group       string  `json:"-"`
	Topic       ID      `json:"-"`
	Partition   int32   `json:"-"`
	Offset      int64   `json:"offset"`
	LeaderEpoch int32   `json:"leaderEpoch"`
	Metadata    *string `json:"metadata,omitempty"`
}

// commitKey is the record key of a group's offset on a partition.
type commitKey struct {
	Group     string `json:"group"`
	Topic     ID     `json:"topicId"`
	Partition int32  `json:"partition"`
}

func (k commitKey) bytes() []byte {
	b, _ := json.Marshal(k) // cannot fail: strings, an id and a number
	return b
}

// decodeCommit validates a committed-offset record.
func decodeCommit(key, value []byte) (commit, error) {
	var k commitKey
	if err := json.Unmarshal(key, &k); err != nil {
		return commit{}, fmt.Errorf("concentration: commit key: %w", err)
	}
	var c commit
	if err := json.Unmarshal(value, &c); err != nil {
		return commit{}, fmt.Errorf("concentration: commit of group %q: %w", k.Group, err)
	}
	if k.Group == "" || k.Partition < 0 || c.Offset < -1 {
		return commit{}, fmt.Errorf("concentration: commit of group %q partition %d offset %d is invalid", k.Group, k.Partition, c.Offset)
	}
	c.Group, c.Topic, c.Partition = k.Group, k.Topic, k.Partition
	return c, nil
}

// commits holds the committed offsets of one moment by group.
type commits map[string]map[commitKey]commit

func indexCommits(s *store.Snapshot[commit]) commits {
	cs := commits{}
	for _, c := range s.Entries {
		if cs[c.Group] == nil {
			cs[c.Group] = map[commitKey]commit{}
		}
		cs[c.Group][commitKey{c.Group, c.Topic, c.Partition}] = c
	}
	return cs
}
