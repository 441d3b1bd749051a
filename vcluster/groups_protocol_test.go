package vcluster

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupsTestMeta encodes consumer member metadata that subscribes to and,
// from version 1, owns partitions of the given topics.
func groupsTestMeta(version int16, topics ...string) []byte {
	m := kmsg.ConsumerMemberMetadata{Version: version, Topics: topics, UserData: []byte("user"), Generation: 7}
	if version >= 3 {
		m.Rack = kmsg.StringPtr("rack-1")
	}
	if version >= 1 {
		for _, t := range topics {
			m.OwnedPartitions = append(m.OwnedPartitions, kmsg.ConsumerMemberMetadataOwnedPartition{Topic: t, Partitions: []int32{0, 2}})
		}
	}
	return m.AppendTo(nil)
}

// groupsTestAssign encodes a consumer member assignment of the given
// topics.
func groupsTestAssign(version int16, topics ...string) []byte {
	a := kmsg.ConsumerMemberAssignment{Version: version, UserData: []byte("user")}
	for _, t := range topics {
		a.Topics = append(a.Topics, kmsg.ConsumerMemberAssignmentTopic{Topic: t, Partitions: []int32{1, 3}})
	}
	return a.AppendTo(nil)
}

func TestGroupsConsumerBytes(t *testing.T) {
	x := &Exchange{Space: New("team-a", nil)}
	out, back := gPhysicalTopic(x), x.logicalTopic
	for v := int16(0); v <= 3; v++ {
		logical := groupsTestMeta(v, "orders", "billing")
		physical := gMetadata(logical, out)
		if want := groupsTestMeta(v, "team-a.orders", "team-a.billing"); !bytes.Equal(physical, want) {
			t.Errorf("metadata v%d to physical:\n got %x\nwant %x", v, physical, want)
		}
		if got := gMetadata(physical, back); !bytes.Equal(got, logical) {
			t.Errorf("metadata v%d back:\n got %x\nwant %x", v, got, logical)
		}
		foreign := groupsTestMeta(v, "team-a.orders", "team-b.orders", "plain")
		if got, want := gMetadata(foreign, back), groupsTestMeta(v, "orders"); !bytes.Equal(got, want) {
			t.Errorf("metadata v%d keeps foreign topics:\n got %x\nwant %x", v, got, want)
		}
	}
	for v := int16(0); v <= 1; v++ {
		logical := groupsTestAssign(v, "orders", "billing")
		physical := gAssignment(logical, out)
		if want := groupsTestAssign(v, "team-a.orders", "team-a.billing"); !bytes.Equal(physical, want) {
			t.Errorf("assignment v%d to physical:\n got %x\nwant %x", v, physical, want)
		}
		if got := gAssignment(physical, back); !bytes.Equal(got, logical) {
			t.Errorf("assignment v%d back:\n got %x\nwant %x", v, got, logical)
		}
		foreign := groupsTestAssign(v, "team-b.orders", "team-a.orders")
		if got, want := gAssignment(foreign, back), groupsTestAssign(v, "orders"); !bytes.Equal(got, want) {
			t.Errorf("assignment v%d keeps foreign topics:\n got %x\nwant %x", v, got, want)
		}
	}
}

func TestGroupsConsumerBytesNewerVersion(t *testing.T) {
	x := &Exchange{Space: New("team-a", nil)}
	tail := []byte{0xde, 0xad}
	meta := append(groupsTestMeta(4, "orders"), tail...)
	if got, want := gMetadata(meta, gPhysicalTopic(x)), append(groupsTestMeta(4, "team-a.orders"), tail...); !bytes.Equal(got, want) {
		t.Errorf("metadata v4:\n got %x\nwant %x", got, want)
	}
	assign := append(groupsTestAssign(2, "orders"), tail...)
	if got, want := gAssignment(assign, gPhysicalTopic(x)), append(groupsTestAssign(2, "team-a.orders"), tail...); !bytes.Equal(got, want) {
		t.Errorf("assignment v2:\n got %x\nwant %x", got, want)
	}
}

func TestGroupsConsumerBytesUnparseable(t *testing.T) {
	x := &Exchange{Space: New("team-a", nil)}
	for _, b := range [][]byte{
		nil,
		{},
		{0, 1},
		groupsTestMeta(1, "orders")[:9],
		groupsTestAssign(0, "orders")[:12],
	} {
		if got := gMetadata(b, gPhysicalTopic(x)); !bytes.Equal(got, b) || (got == nil) != (b == nil) {
			t.Errorf("metadata %x became %x", b, got)
		}
		if got := gAssignment(b, gPhysicalTopic(x)); !bytes.Equal(got, b) || (got == nil) != (b == nil) {
			t.Errorf("assignment %x became %x", b, got)
		}
	}
}

func FuzzGroupsConsumerBytes(f *testing.F) {
	f.Add(groupsTestMeta(3, "team-a.orders", "team-b.x"))
	f.Add(groupsTestAssign(1, "team-a.orders", "plain"))
	f.Fuzz(func(t *testing.T, b []byte) {
		back := (&Exchange{Space: New("team-a", nil)}).logicalTopic
		same := func(s string) (string, bool) { return s, true }
		for _, translate := range []func([]byte, func(string) (string, bool)) []byte{gMetadata, gAssignment} {
			translate(b, back)
			once := translate(b, same)
			if twice := translate(once, same); !bytes.Equal(twice, once) {
				t.Fatalf("re-encoding %x is not stable: %x, then %x", b, once, twice)
			}
		}
	})
}
