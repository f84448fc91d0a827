package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// recovery is what the loop reports in its "recovered" log line.
type recovery struct {
	SnapshotSeq uint64
	Replayed    int64
	AckFloor    uint64
	Took        time.Duration
}

// recoveryLog is a slog.Handler that remembers the last "recovered" record
// and passes records at or above level on to next.
type recoveryLog struct {
	next  slog.Handler
	level slog.Level
	state *recoveryState
	attrs []slog.Attr
}

type recoveryState struct {
	mu   sync.Mutex
	last *recovery
}

func newRecoveryLog(next slog.Handler, level slog.Level) *recoveryLog {
	return &recoveryLog{next: next, level: level, state: &recoveryState{}}
}

// take returns the last recovery seen and forgets it.
func (h *recoveryLog) take() *recovery {
	h.state.mu.Lock()
	defer h.state.mu.Unlock()
	r := h.state.last
	h.state.last = nil
	return r
}

func (h *recoveryLog) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *recoveryLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "recovered" {
		var rec recovery
		r.Attrs(func(a slog.Attr) bool {
			v := a.Value.Resolve()
			switch a.Key {
			case "snapshot_seq":
				rec.SnapshotSeq = uint64(intOf(v))
			case "replayed":
				rec.Replayed = intOf(v)
			case "ack_floor":
				rec.AckFloor = uint64(intOf(v))
			case "took":
				if v.Kind() == slog.KindDuration {
					rec.Took = v.Duration()
				}
			}
			return true
		})
		h.state.mu.Lock()
		h.state.last = &rec
		h.state.mu.Unlock()
	}
	if r.Level < h.level || !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.WithAttrs(h.attrs).Handle(ctx, r)
}

func (h *recoveryLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *recoveryLog) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(h.attrs).WithGroup(name)
	c.attrs = nil
	return &c
}

// intOf reads an integer attribute of either signedness; other kinds read
// as 0 (the loop's log format is not a contract).
func intOf(v slog.Value) int64 {
	switch v.Kind() {
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return int64(v.Uint64())
	}
	return 0
}
