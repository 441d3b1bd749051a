package gateway

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"go.uber.org/zap"
)

// Refresher keeps a Topology current by asking the backing cluster, through
// the gateway's own client, for its brokers and their API versions. Its
// success also tells whether the backing cluster is reachable.
type Refresher struct {
	adm      *kadm.Client
	topology *Topology
	log      *zap.Logger
	interval time.Duration
	lastOK   atomic.Int64 // unix nanos of the last successful refresh
}

// NewRefresher returns a refresher polling every interval.
func NewRefresher(adm *kadm.Client, topology *Topology, interval time.Duration, log *zap.Logger) *Refresher {
	return &Refresher{adm: adm, topology: topology, interval: interval, log: log}
}

// Refresh reads the broker list and every broker's API versions once.
func (r *Refresher) Refresh(ctx context.Context) error {
	md, err := r.adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("gateway: read backing cluster metadata: %w", err)
	}
	brokers := make([]Broker, 0, len(md.Brokers))
	for _, b := range md.Brokers {
		brokers = append(brokers, Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: deref(b.Rack)})
	}
	if len(brokers) == 0 {
		return fmt.Errorf("gateway: backing cluster reported no brokers")
	}
	r.topology.SetBrokers(brokers)

	versions, err := r.adm.ApiVersions(ctx)
	if err != nil {
		return fmt.Errorf("gateway: read backing api versions: %w", err)
	}
	// A broker that is down right now is left out of the intersection; its
	// versions count again once it answers.
	var perBroker [][]KeyVersions
	var firstErr error
	for _, bv := range versions {
		if bv.Err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("gateway: read api versions of broker %d: %w", bv.NodeID, bv.Err)
			}
			continue
		}
		var kvs []KeyVersions
		bv.EachKeySorted(func(key, lo, hi int16) {
			kvs = append(kvs, KeyVersions{Key: key, Min: lo, Max: hi})
		})
		perBroker = append(perBroker, kvs)
	}
	if len(perBroker) == 0 {
		return firstErr
	}
	r.topology.SetVersions(perBroker)
	r.lastOK.Store(time.Now().UnixNano())
	return nil
}

// Run refreshes until ctx ends.
func (r *Refresher) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, r.interval)
		err := r.Refresh(rctx)
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			r.log.Warn("backing cluster unreachable", zap.Error(err))
			failing = true
		case err == nil && failing:
			r.log.Info("backing cluster reachable again")
			failing = false
		}
	}
}

// Healthy reports whether a refresh succeeded within the last three
// intervals.
func (r *Refresher) Healthy() bool {
	last := r.lastOK.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < 3*r.interval
}
