package concentration

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/strait-gateway/strait/resource"
	"github.com/strait-gateway/strait/store"
	"github.com/strait-gateway/strait/vcluster"
)

// Config is what a Concentrator needs.
type Config struct {
	// Client reaches the backing cluster; the Concentrator creates and
	// inspects physical topics and follows their records through it.
	ClientOpts []kgo.Opt
	// Topics is the compacted registry of concentrated topics, Offsets
	// the one holding the offset index checkpoints, Commits the one
	// holding consumer groups' offsets of concentrated partitions.
	Topics, Offsets, Commits store.Config
	// Config is the config topic's store, for the ConcentrationRules.
	Config *store.Store[*resource.Resource]
	Log    *zap.Logger
}

// Concentrator is one node's topic concentration: rules, the registry of
// concentrated topics and the offset indexes of their physical partitions.
type Concentrator struct {
	log       *zap.Logger
	registry  *store.Store[*Topic]
	commits   *store.Store[commit]
	committed atomic.Pointer[commits]
	rules     atomic.Pointer[rules]
	view      atomic.Pointer[view]
	adm       *kadm.Client
	client    *kgo.Client
	follower  *follower
}

// view is the registry of one moment, indexed for the frame path.
type view struct {
	byName      map[string]*Topic
	byID        map[ID]*Topic
	byPhysical  map[string]bool // physical topics holding concentrated records
	physicalIDs map[ID]bool     // and their topic ids
}

// Open reads the registry and the index checkpoints and starts following
// the physical topics.
func Open(ctx context.Context, cfg Config) (*Concentrator, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	client, err := kgo.NewClient(cfg.ClientOpts...)
	if err != nil {
		return nil, fmt.Errorf("concentration: client: %w", err)
	}
	c := &Concentrator{log: cfg.Log, adm: kadm.NewClient(client), client: client}
	c.registry, err = store.Open(ctx, cfg.ClientOpts, cfg.Topics, decodeTopic)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("concentration: registry: %w", err)
	}
	c.follower, err = openFollower(ctx, cfg, c.registry.Snapshot(), c.log.Named("index"))
	if err != nil {
		c.registry.Close()
		client.Close()
		return nil, err
	}
	c.commits, err = store.Open(ctx, cfg.ClientOpts, cfg.Commits, decodeCommit)
	if err != nil {
		c.follower.close()
		c.registry.Close()
		client.Close()
		return nil, fmt.Errorf("concentration: commits: %w", err)
	}
	c.setCommits(c.commits.Snapshot())
	c.commits.Watch(c.setCommits)
	c.setView(c.registry.Snapshot())
	c.registry.Watch(c.setView)
	rs := compileRules(cfg.Config.Snapshot().Entries)
	c.rules.Store(&rs)
	cfg.Config.Watch(func(s *store.Snapshot[*resource.Resource]) {
		rs := compileRules(s.Entries)
		c.rules.Store(&rs)
	})
	return c, nil
}

// setView indexes a registry snapshot and tells the follower which
// physical topics to read.
func (c *Concentrator) setView(s *store.Snapshot[*Topic]) {
	v := &view{byName: map[string]*Topic{}, byID: map[ID]*Topic{}, byPhysical: map[string]bool{}, physicalIDs: map[ID]bool{}}
	for _, t := range s.Entries {
		v.byName[t.Name] = t
		v.byID[t.ID] = t
		v.byPhysical[t.Physical] = true
		v.physicalIDs[t.PhysicalID] = true
	}
	c.view.Store(v)
	c.follower.follow(v)
}

func (c *Concentrator) setCommits(s *store.Snapshot[commit]) {
	cs := indexCommits(s)
	c.committed.Store(&cs)
}

// Close stops following.
func (c *Concentrator) Close() {
	c.commits.Close()
	c.registry.Close()
	c.follower.close()
	c.client.Close()
}

// Topics returns the concentrated topics, for the admin API.
func (c *Concentrator) Topics() []*Topic {
	v := c.view.Load()
	ts := make([]*Topic, 0, len(v.byName))
	for _, t := range v.byName {
		ts = append(ts, t)
	}
	return ts
}

// translated lists the API keys whose requests may name a concentrated
// topic.
// It is an array: the frame path asks for every request.
var translated = func() (t [76]bool) {
	for _, k := range []int16{0, 1, 2, 3, 8, 9, 19, 20, 23, 24, 32, 33, 42, 44, 75} {
		t[k] = true
	}
	return t
}()

// Translates reports whether requests of an API key must be decoded and
// passed to Request: only while there are rules or concentrated topics.
func (c *Concentrator) Translates(key int16) bool {
	if c == nil || key < 0 || int(key) >= len(translated) || !translated[key] {
		return false
	}
	return len(c.view.Load().byName) > 0 || len(*c.rules.Load()) > 0
}

// Exchange carries one request's translation to its response.
type Exchange struct {
	c     *Concentrator
	view  *view
	space *vcluster.Space
	// Extra holds further requests to send after the translated one, on
	// the same connection; their responses come to Response together.
	Extra   []kmsg.Request
	respond func(resp kmsg.Response, extra []kmsg.Response) error
}

// Request translates req, whose names are backing names already, in place;
// space is the client's virtual cluster. It returns nil when the request
// names no concentrated topic.
func (c *Concentrator) Request(ctx context.Context, req kmsg.Request, space *vcluster.Space) (*Exchange, error) {
	x := &Exchange{c: c, view: c.view.Load(), space: space}
	var err error
	switch r := req.(type) {
	case *kmsg.MetadataRequest:
		x.metadata(r)
	case *kmsg.DescribeTopicPartitionsRequest:
		x.describeTopicPartitions(r)
	case *kmsg.DescribeConfigsRequest:
		x.describeConfigs(r)
	case *kmsg.AlterConfigsRequest, *kmsg.IncrementalAlterConfigsRequest:
		x.alterConfigs(r)
	case *kmsg.CreateTopicsRequest:
		err = x.createTopics(ctx, r)
	case *kmsg.DeleteTopicsRequest:
		err = x.deleteTopics(ctx, r)
	case *kmsg.ProduceRequest:
		x.produce(r)
	case *kmsg.FetchRequest:
		x.fetch(r)
	case *kmsg.ListOffsetsRequest:
		x.listOffsets(r)
	case *kmsg.OffsetForLeaderEpochRequest:
		x.offsetForLeaderEpoch(r)
	case *kmsg.AddPartitionsToTxnRequest:
		x.addPartitionsToTxn(r)
	case *kmsg.DeleteGroupsRequest:
		x.deleteGroups(r)
	case *kmsg.OffsetCommitRequest:
		x.offsetCommit(r)
	case *kmsg.OffsetFetchRequest:
		x.offsetFetch(r)
	}
	if err != nil || x.respond == nil {
		return nil, err
	}
	return x, nil
}

// Response translates the response to the exchange's request in place;
// extra are the responses to x.Extra, in order.
func (x *Exchange) Response(resp kmsg.Response, extra []kmsg.Response) error {
	return x.respond(resp, extra)
}

// topic returns the concentrated topic a request names, by name or id.
func (v *view) topic(name *string, id [16]byte) *Topic {
	if name != nil && *name != "" {
		return v.byName[*name]
	}
	if id != ([16]byte{}) {
		return v.byID[id]
	}
	return nil
}
