package concentration

import (
	"strings"
	"testing"

	"github.com/strait-gateway/strait/store"
)

func TestDecodeCommit(t *testing.T) {
	key := commitKey{Group: "g", Topic: testID, Partition: 2}.bytes()
	for _, tc := range []struct {
		name, key, value string
		want             string // error substring, empty when valid
	}{
		{"valid", string(key), `{"offset":5,"leaderEpoch":3,"metadata":"m"}`, ""},
		{"no offset yet", string(key), `{"offset":-1,"leaderEpoch":-1}`, ""},
		{"offset below -1", string(key), `{"offset":-2}`, "invalid"},
		{"key not json", "g/1", `{"offset":5}`, "commit key"},
		{"value not json", string(key), `{`, "commit of group"},
		{"no group", `{"topicId":"` + testID.String() + `","partition":1}`, `{"offset":5}`, "invalid"},
		{"negative partition", `{"group":"g","topicId":"` + testID.String() + `","partition":-1}`, `{"offset":5}`, "invalid"},
		{"bad topic id", `{"group":"g","topicId":"x","partition":1}`, `{"offset":5}`, "commit key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := decodeCommit([]byte(tc.key), []byte(tc.value))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "concentration: ") {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Group != "g" || c.Topic != testID || c.Partition != 2 {
				t.Errorf("decoded %+v", c)
			}
		})
	}
	c, err := decodeCommit(key, []byte(`{"offset":5,"leaderEpoch":3,"metadata":"m"}`))
	if err != nil || c.Offset != 5 || c.LeaderEpoch != 3 || c.Metadata == nil || *c.Metadata != "m" {
		t.Errorf("decoded %+v, %v", c, err)
	}
}

func TestIndexCommits(t *testing.T) {
	s := &store.Snapshot[commit]{Entries: map[string]commit{
		"1": {Group: "g", Topic: idA, Partition: 0, Offset: 5},
		"2": {Group: "g", Topic: idA, Partition: 1, Offset: 6},
		"3": {Group: "h", Topic: idA, Partition: 0, Offset: 7},
	}}
	cs := indexCommits(s)
	if len(cs) != 2 || len(cs["g"]) != 2 || len(cs["h"]) != 1 {
		t.Fatalf("indexed %v", cs)
	}
	for _, tc := range []struct {
		group     string
		partition int32
		offset    int64
	}{{"g", 0, 5}, {"g", 1, 6}, {"h", 0, 7}} {
		if c, ok := cs[tc.group][commitKey{tc.group, idA, tc.partition}]; !ok || c.Offset != tc.offset {
			t.Errorf("%s/%d: %+v, %v", tc.group, tc.partition, c, ok)
		}
	}
	if len(indexCommits(&store.Snapshot[commit]{})) != 0 {
		t.Error("an empty snapshot indexed something")
	}
}

// FuzzDecodeCommit checks that decodeCommit never panics and that an
// accepted record is valid and keyed the way it was read.
func FuzzDecodeCommit(f *testing.F) {
	f.Add(commitKey{Group: "g", Topic: testID, Partition: 2}.bytes(), []byte(`{"offset":5,"leaderEpoch":3}`))
	f.Add([]byte(`{"group":"g","topicId":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), []byte(`{"offset":-1}`))
	f.Add([]byte(`null`), []byte(`null`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		c, err := decodeCommit(key, value)
		if err != nil {
			return
		}
		if c.Group == "" || c.Partition < 0 || c.Offset < -1 {
			t.Fatalf("accepted invalid commit %+v", c)
		}
		back, err := decodeCommit(commitKey{c.Group, c.Topic, c.Partition}.bytes(), value)
		if err != nil || back.Group != c.Group || back.Topic != c.Topic || back.Partition != c.Partition || back.Offset != c.Offset {
			t.Fatalf("re-keyed commit %+v became %+v, %v", c, back, err)
		}
	})
}
