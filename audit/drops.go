package audit

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// dropInterval is how often, at most, dropped events are logged.
const dropInterval = 10 * time.Second

// dropReport logs dropped events without flooding the log and without a
// lock on the frame path: the first drop is logged at once, later ones in
// one line per dropInterval with the counts since the previous line.
type dropReport struct {
	log                  *zap.Logger
	full, failed, encode atomic.Int64
	last                 atomic.Int64 // unix nanoseconds of the last line; 0 before the first
}

func (d *dropReport) add(reason string, err error) {
	switch reason {
	case dropFull:
		d.full.Add(1)
	case dropFailed:
		d.failed.Add(1)
	default:
		d.encode.Add(1)
	}
	now := time.Now().UnixNano()
	last := d.last.Load()
	if last != 0 && now-last < int64(dropInterval) || !d.last.CompareAndSwap(last, now) {
		return
	}
	fields := []zap.Field{
		zap.Int64("bufferFull", d.full.Swap(0)),
		zap.Int64("deliveryFailed", d.failed.Swap(0)),
		zap.Int64("encodeFailed", d.encode.Swap(0)),
	}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	d.log.Warn("audit events dropped since the last report (strait_audit_events_dropped_total counts them all)", fields...)
}
