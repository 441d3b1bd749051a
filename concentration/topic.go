package concentration

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/strait-gateway/strait/concentration/offsetmap"
)

// Header names of the tag every concentrated record carries.
const (
	// TopicHeader holds the logical topic's id, as Kafka prints topic ids.
	TopicHeader = "strait.topic.id"
	// PartitionHeader holds the logical partition in decimal.
	PartitionHeader = "strait.partition"
)

// Topic is one concentrated (logical) topic as the registry stores it.
type Topic struct {
	// Name is the topic's backing name: a tenant's topic carries its
	// virtual cluster's prefix.
	Name string `json:"name"`
	// ID is the logical topic id clients see; a topic deleted and created
	// again gets a new one, so the old records stay invisible.
	ID ID `json:"id"`
	// VCluster and Rule tell where the topic came from.
	VCluster string `json:"vCluster"`
	Rule     string `json:"rule"`
	// Physical is the backing name of the physical topic holding the
	// records, PhysicalID its topic id.
	Physical   string `json:"physicalTopic"`
	PhysicalID ID     `json:"physicalTopicId"`
	// Partitions maps each logical partition to a physical partition.
	Partitions []int32 `json:"partitions"`
	// CleanupPolicy is delete, compact or compact,delete.
	CleanupPolicy string `json:"cleanupPolicy"`
	// Configs holds the other topic configs set at creation.
	Configs map[string]string `json:"configs,omitempty"`
	// Dense numbers each logical partition's records 0, 1, 2, … (the
	// rule's offsetCorrectness); otherwise clients see physical offsets.
	Dense bool `json:"offsetCorrectness"`
}

// Tag returns the tag of one of the topic's partitions.
func (t *Topic) Tag(partition int32) offsetmap.Tag {
	return offsetmap.Tag{Topic: t.ID, Partition: partition}
}

// ID is a Kafka topic id; in JSON and in record headers it is written the
// way Kafka prints one (unpadded URL-safe base64).
type ID [16]byte

// NewID returns a random topic id.
func NewID() ID {
	var id ID
	for id == (ID{}) {
		_, _ = rand.Read(id[:])
	}
	return id
}

func (id ID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) != 22 {
		return fmt.Errorf("concentration: topic id %q is not 22 characters of base64url", b)
	}
	n, err := base64.RawURLEncoding.Strict().Decode(id[:], b)
	if err != nil || n != len(id) {
		return fmt.Errorf("concentration: topic id %q is not 22 characters of base64url", b)
	}
	return nil
}

// decodeTopic validates a registry record; the key is the topic's name.
func decodeTopic(key, value []byte) (*Topic, error) {
	var t Topic
	if err := json.Unmarshal(value, &t); err != nil {
		return nil, fmt.Errorf("concentration: topic record: %w", err)
	}
	switch {
	case t.Name != string(key):
		return nil, fmt.Errorf("concentration: topic record: name %q under key %q", t.Name, key)
	case t.ID == ID{}:
		return nil, fmt.Errorf("concentration: topic %s: no id", t.Name)
	case t.Physical == "":
		return nil, fmt.Errorf("concentration: topic %s: no physical topic", t.Name)
	case len(t.Partitions) == 0:
		return nil, fmt.Errorf("concentration: topic %s: no partitions", t.Name)
	case !slices.Contains(policies, t.CleanupPolicy):
		return nil, fmt.Errorf("concentration: topic %s: cleanup policy %q", t.Name, t.CleanupPolicy)
	}
	for _, p := range t.Partitions {
		if p < 0 {
			return nil, fmt.Errorf("concentration: topic %s: physical partition %d", t.Name, p)
		}
	}
	return &t, nil
}

// policies lists the cleanup policies a concentrated topic may have, in
// their canonical spelling.
var policies = []string{"delete", "compact", "compact,delete"}

// parseTag reads a record's tag from its headers; ok is false for a
// record the gateway did not write.
func parseTag(topic, partition []byte) (offsetmap.Tag, bool) {
	var id ID
	if id.UnmarshalText(topic) != nil {
		return offsetmap.Tag{}, false
	}
	p, err := strconv.ParseInt(string(partition), 10, 32)
	if err != nil || p < 0 {
		return offsetmap.Tag{}, false
	}
	return offsetmap.Tag{Topic: id, Partition: int32(p)}, true
}
