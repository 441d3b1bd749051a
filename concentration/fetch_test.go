package concentration

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-gateway/strait/concentration/offsetmap"
	"github.com/strait-gateway/strait/records/recordstest"
)

// stretch is one batch of a physical log: n records from base, of tag
// (or a control batch when control is set).
type stretch struct {
	base    int64
	n       int
	tag     offsetmap.Tag
	control bool
}

// physLog encodes the batches of a physical log and returns each batch.
func physLog(t testing.TB, ss []stretch) [][]byte {
	var out [][]byte
	for _, s := range ss {
		recs := make([]kmsg.Record, s.n)
		for i := range recs {
			recs[i] = rec("r")
		}
		b := recordstest.Batch(t, kgo.NoCompression(), recs...)
		if s.control {
			b = setAttributes(b, 0x20)
		}
		binary.BigEndian.PutUint64(b, uint64(s.base)) // the CRC leaves the base out
		out = append(out, b)
	}
	return out
}

// indexOf indexes ss up to watermark as the follower would.
func indexOf(dense bool, ss []stretch, watermark int64) *offsetmap.Index {
	ix := offsetmap.New(dense)
	for _, s := range ss {
		for off := s.base; off < s.base+int64(s.n) && off < watermark; off++ {
			if s.control {
				ix.Advance(off + 1)
			} else {
				ix.Append(off, s.tag)
			}
		}
	}
	ix.Advance(watermark)
	return ix
}

// withBase returns a copy of batch b with base offset base.
func withBase(b []byte, base int64) []byte {
	b = slices.Clone(b)
	binary.BigEndian.PutUint64(b, uint64(base))
	return b
}

func TestFilter(t *testing.T) {
	a0, a1 := offsetmap.Tag{Topic: idA, Partition: 0}, offsetmap.Tag{Topic: idA, Partition: 1}
	log := []stretch{{0, 2, a0, false}, {2, 3, a1, false}, {5, 2, a0, false}, {7, 1, offsetmap.Tag{}, true},
		{8, 2, a1, false}, {10, 2, a0, false}}
	bs := physLog(t, log)
	all := bytes.Join(bs, nil)
	// A control batch where the index (wrongly) has the tag's records.
	ctlLog := []stretch{{0, 2, a0, false}, {2, 2, a0, true}, {4, 1, a0, false}}
	ctl := physLog(t, ctlLog)
	for _, tc := range []struct {
		name  string
		ix    *offsetmap.Index
		tag   offsetmap.Tag
		dense bool
		from  int64
		data  []byte
		want  [][]byte
	}{
		{"dense", indexOf(true, log, 12), a0, true, 0, all, [][]byte{bs[0], withBase(bs[2], 2), withBase(bs[5], 4)}},
		{"dense other tag", indexOf(true, log, 12), a1, true, 0, all, [][]byte{withBase(bs[1], 0), withBase(bs[4], 3)}},
		{"physical offsets", indexOf(false, log, 12), a0, false, 0, all, [][]byte{bs[0], bs[2], bs[5]}},
		{"physical other tag", indexOf(false, log, 12), a1, false, 0, all, [][]byte{bs[1], bs[4]}},
		{"from inside a batch", indexOf(true, log, 12), a0, true, 6, all, [][]byte{withBase(bs[2], 2), withBase(bs[5], 4)}},
		{"from after a batch", indexOf(true, log, 12), a0, true, 7, all, [][]byte{withBase(bs[5], 4)}},
		{"stops at the watermark", indexOf(true, log, 11), a0, true, 0, all, [][]byte{bs[0], withBase(bs[2], 2)}},
		{"nothing indexed", indexOf(true, log, 0), a0, true, 0, all, nil},
		{"partial trailing batch", indexOf(true, log, 12), a0, true, 0, all[:len(all)-1], [][]byte{bs[0], withBase(bs[2], 2)}},
		{"control batch skipped", indexOf(true, ctlLog, 5), a0, true, 0, bytes.Join(ctl, nil), [][]byte{ctl[0], withBase(ctl[2], 2)}},
		{"unknown tag", indexOf(true, log, 12), offsetmap.Tag{Topic: idB}, true, 0, all, nil},
		{"empty", indexOf(true, log, 12), a0, true, 0, nil, nil},
		{"short garbage", indexOf(true, log, 12), a0, true, 0, []byte{1, 2, 3}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := bytes.Join(tc.want, nil)
			if got := filter(tc.ix, tc.tag, tc.dense, tc.from, tc.data, nil); !bytes.Equal(got, want) {
				t.Errorf("filter gave %d bytes, want %d", len(got), len(want))
			}
			// In place, over a copy of the data: the same answer.
			data := bytes.Clone(tc.data)
			if got := filter(tc.ix, tc.tag, tc.dense, tc.from, data, data[:0]); !bytes.Equal(got, want) {
				t.Errorf("filter in place gave %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

// splitBatches cuts data at the batch lengths, as filter does.
func splitBatches(data []byte) [][]byte {
	var out [][]byte
	for len(data) >= 61 {
		n := int(int32(binary.BigEndian.Uint32(data[8:]))) + 12
		if n < 61 || n > len(data) {
			break
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// FuzzFilter checks that filter never panics and only ever returns whole
// batches of its input, in order, with at most their base offset changed.
func FuzzFilter(f *testing.F) {
	a0, a1 := offsetmap.Tag{Topic: idA, Partition: 0}, offsetmap.Tag{Topic: idA, Partition: 1}
	log := []stretch{{0, 2, a0, false}, {2, 3, a1, false}, {5, 1, a0, true}, {6, 2, a0, false}}
	all := bytes.Join(physLog(f, log), nil)
	f.Add(all, true, int64(0))
	f.Add(all, false, int64(3))
	f.Add(all[:100], true, int64(0))
	f.Add([]byte{}, false, int64(-1))
	f.Fuzz(func(t *testing.T, data []byte, dense bool, from int64) {
		ix := indexOf(dense, log, 8)
		out := filter(ix, a0, dense, from, data, nil)
		in := splitBatches(data)
		i := 0
		for _, b := range splitBatches(out) {
			for i < len(in) && !(bytes.Equal(in[i][8:], b[8:]) && (dense || bytes.Equal(in[i], b))) {
				i++
			}
			if i == len(in) {
				t.Fatalf("output batch %x is not an input batch in order", b)
			}
			i++
		}
		if n := len(bytes.Join(splitBatches(out), nil)); n != len(out) {
			t.Fatalf("%d bytes of output are not whole batches", len(out)-n)
		}
	})
}

func fetchRequestTopic(v int16, name string, id ID, offsets map[int32]int64) kmsg.FetchRequestTopic {
	t := kmsg.NewFetchRequestTopic()
	t.Topic, t.TopicID = names(v, name, id)
	for _, p := range slices.Sorted(maps.Keys(offsets)) {
		pt := kmsg.NewFetchRequestTopicPartition()
		pt.Partition, pt.FetchOffset, pt.PartitionMaxBytes = p, offsets[p], 1000+p
		t.Partitions = append(t.Partitions, pt)
	}
	return t
}

func TestFetchExchange(t *testing.T) {
	a0, a1 := offsetmap.Tag{Topic: idA, Partition: 0}, offsetmap.Tag{Topic: idA, Partition: 1}
	log := []stretch{{97, 2, a1, false}, {99, 3, a0, false}, {102, 2, a1, false}}
	bs := physLog(t, log)
	for _, c := range []struct {
		behindBy   int64 // the physical high watermark of partition 1, whose index is empty
		outOfRange int16
	}{{0, kerr.OffsetOutOfRange.Code}, {5, 0}} {
		behindBy, outOfRange := c.behindBy, c.outOfRange
		for _, v := range []int16{12, 13} {
			t.Run("v"+strconv.Itoa(int(v))+"/behind-"+strconv.Itoa(int(behindBy)), func(t *testing.T) {
				key := func(name string, id ID) string {
					if v >= 13 {
						return id.String()
					}
					return name
				}
				fx := newFixture(t)
				for _, w := range log {
					for off := w.base; off < w.base+int64(w.n); off++ {
						fx.phys0.Append(off, w.tag)
					}
				}
				r := kmsg.NewPtrFetchRequest()
				r.SetVersion(v)
				r.SessionID, r.SessionEpoch = 5, 3
				r.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "gone"}}
				r.Topics = []kmsg.FetchRequestTopic{
					fetchRequestTopic(v, "plain", idPlain, map[int32]int64{0: 40}),
					// a/0 from logical 1 (physical 100), a/1 from 0 (97),
					// a/2 beyond its end.
					fetchRequestTopic(v, "a", idA, map[int32]int64{0: 1, 1: 0, 2: 99}),
				}
				x, err := fx.x.c.Request(t.Context(), r, nil)
				if err != nil || x == nil {
					t.Fatalf("Request: %v, %v", x, err)
				}
				if r.SessionID != 0 || r.SessionEpoch != -1 || r.ForgottenTopics != nil {
					t.Errorf("session left on: id %d epoch %d forgotten %v", r.SessionID, r.SessionEpoch, r.ForgottenTopics)
				}
				got := map[string]map[int32]kmsg.FetchRequestTopicPartition{}
				for _, rt := range r.Topics {
					k := rt.Topic
					if v >= 13 {
						k = ID(rt.TopicID).String()
					}
					if got[k] != nil {
						t.Errorf("topic %s named twice", k)
					}
					got[k] = map[int32]kmsg.FetchRequestTopicPartition{}
					for _, p := range rt.Partitions {
						got[k][p.Partition] = p
					}
				}
				// a/2 lives on physical partition 1, read from its index's
				// watermark (0): whether 99 is out of range is decided on
				// the answer.
				if len(got) != 2 || len(got[key("plain", idPlain)]) != 1 || len(got[key("phys", idPhys)]) != 2 || got[key("phys", idPhys)][1].FetchOffset != 0 {
					t.Fatalf("translated request: %v", got)
				}
				if p := got[key("plain", idPlain)][0]; p.FetchOffset != 40 {
					t.Errorf("plain partition changed: %+v", p)
				}
				if p := got[key("phys", idPhys)][0]; p.FetchOffset != 97 || p.PartitionMaxBytes != 1001 {
					t.Errorf("physical partition at %d max %d, want 97 1001", p.FetchOffset, p.PartitionMaxBytes)
				}

				resp := kmsg.NewPtrFetchResponse()
				resp.SetVersion(v)
				plain := kmsg.NewFetchResponseTopic()
				plain.Topic, plain.TopicID = names(v, "plain", idPlain)
				plain.Partitions = []kmsg.FetchResponseTopicPartition{{Partition: 0, HighWatermark: 41}}
				phys := kmsg.NewFetchResponseTopic()
				phys.Topic, phys.TopicID = names(v, "phys", idPhys)
				phys.Partitions = []kmsg.FetchResponseTopicPartition{{Partition: 0, HighWatermark: 104, LastStableOffset: 104,
					RecordBatches: bytes.Join(bs, nil)}, {Partition: 1, HighWatermark: behindBy}}
				resp.Topics = []kmsg.FetchResponseTopic{plain, phys}
				if err := x.Response(resp, nil); err != nil {
					t.Fatal(err)
				}
				answers := map[string]map[int32]kmsg.FetchResponseTopicPartition{}
				for _, rt := range resp.Topics {
					k := rt.Topic
					if v >= 13 {
						k = ID(rt.TopicID).String()
					}
					answers[k] = map[int32]kmsg.FetchResponseTopicPartition{}
					for _, p := range rt.Partitions {
						answers[k][p.Partition] = p
					}
				}
				if len(answers) != 2 || answers[key("plain", idPlain)][0].HighWatermark != 41 {
					t.Fatalf("response topics: %v", answers)
				}
				as := answers[key("a", idA)]
				for p, w := range map[int32]struct {
					code int16
					hw   int64
					data []byte
				}{
					0: {0, 3, withBase(bs[1], 0)},
					1: {0, 4, bytes.Join([][]byte{withBase(bs[0], 0), withBase(bs[2], 2)}, nil)},
					2: {outOfRange, 99, nil}, // behind: no records, no error, the end where the client is
				} {
					g, ok := as[p]
					if !ok || g.ErrorCode != w.code || !bytes.Equal(g.RecordBatches, w.data) || (w.code == 0 && (g.HighWatermark != w.hw || g.LastStableOffset != w.hw)) {
						t.Errorf("a/%d: error %d high watermark %d stable %d, %d bytes; want error %d watermark %d, %d bytes",
							p, g.ErrorCode, g.HighWatermark, g.LastStableOffset, len(g.RecordBatches), w.code, w.hw, len(w.data))
					}
				}
			})
		}
	}
}
