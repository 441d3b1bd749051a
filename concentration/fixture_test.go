package concentration

import (
	"testing"

	"github.com/strait-gateway/strait/concentration/offsetmap"
)

// Ids of the fixture's topics.
var (
	idA     = ID{0xa}
	idB     = ID{0xb}
	idPhys  = ID{0x1}
	idCmp   = ID{0x2}
	idPlain = ID{0x3}
)

// fixture is a Concentrator without Kafka: topic a (dense, three logical
// partitions, the first two on partition 0 of phys) and topic b
// (compacted, not dense, on partition 0 of cmp), with their indexes.
type fixture struct {
	x        *Exchange
	a, b     *Topic
	phys0    *offsetmap.Index
	cmp0     *offsetmap.Index
	follower *follower
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	a := &Topic{Name: "a", ID: idA, Physical: "phys", PhysicalID: idPhys, Partitions: []int32{0, 0, 1},
		CleanupPolicy: "delete", Dense: true}
	b := &Topic{Name: "b", ID: idB, Physical: "cmp", PhysicalID: idCmp, Partitions: []int32{0},
		CleanupPolicy: "compact"}
	fx := &fixture{a: a, b: b, phys0: offsetmap.New(true), cmp0: offsetmap.New(false)}
	fx.follower = &follower{moved: make(chan struct{}), indexes: map[string]map[int32]*offsetmap.Index{
		"phys": {0: fx.phys0, 1: offsetmap.New(true)},
		"cmp":  {0: fx.cmp0},
	}}
	v := &view{byName: map[string]*Topic{"a": a, "b": b}, byID: map[ID]*Topic{idA: a, idB: b},
		byPhysical: map[string]bool{"phys": true, "cmp": true}}
	c := &Concentrator{follower: fx.follower}
	c.view.Store(v)
	fx.x = &Exchange{c: c, view: v}
	return fx
}

// names returns how a request of version v names a topic: (name, zero
// id) before version 13 of Produce and Fetch, (empty, id) from it.
func names(v int16, name string, id ID) (string, [16]byte) {
	if v >= 13 {
		return "", id
	}
	return name, [16]byte{}
}
