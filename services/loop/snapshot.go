package loop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"chirp/natskit"

	"github.com/nats-io/nats.go/jetstream"
)

// Snapshotter is implemented by handlers whose world can be saved and
// restored. Snapshot runs on the loop goroutine; Restore runs before the
// loop starts and leaves the world unchanged when it fails.
type Snapshotter interface {
	Snapshot() ([]byte, error)
	Restore([]byte) error
}

// Capturer is a Snapshotter that can split a snapshot in two: Capture runs
// on the loop goroutine and copies what the snapshot needs; the encode
// function it returns runs later on another goroutine, while the world
// steps on, and must not touch the world.
type Capturer interface {
	Capture() (encode func() ([]byte, error))
}

// snapshotMeta is the object metadata key holding the stream sequence of
// the last input a snapshot includes.
const snapshotMeta = "chirp-seq"

// pendingSnapshot travels through the completion queue: when the completer
// reaches it, every input up to seq is complete, so the snapshot may be
// stored without ever getting ahead of the consumer's ack floor.
type pendingSnapshot struct {
	seq    uint64
	data   []byte
	encode func() ([]byte, error) // set instead of data by a Capturer
	at     time.Time              // when it was taken
}

// restore loads the latest snapshot. It returns the sequence it covers, or
// 0 when there is none or it cannot be used (then the world replays the
// whole stream).
func (l *Loop) restore(ctx context.Context) uint64 {
	s, ok := l.h.(Snapshotter)
	if !ok || l.cfg.SnapshotEvery < 0 {
		return 0
	}
	obs, err := l.js.ObjectStore(ctx, natskit.SnapshotBucket)
	if err != nil {
		l.log.Warn("snapshot store unavailable, replaying everything", "err", err)
		return 0
	}
	info, err := obs.GetInfo(ctx, l.cfg.Name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return 0
	}
	if err != nil {
		l.log.Warn("snapshot unreadable, replaying everything", "err", err)
		return 0
	}
	seq, err := strconv.ParseUint(info.Metadata[snapshotMeta], 10, 64)
	if err != nil {
		l.log.Warn("snapshot without a sequence, replaying everything", "err", err)
		return 0
	}
	data, err := obs.GetBytes(ctx, l.cfg.Name)
	if err != nil {
		l.log.Warn("snapshot unreadable, replaying everything", "err", err)
		return 0
	}
	if err := s.Restore(data); err != nil {
		l.log.Warn("snapshot does not load, replaying everything", "seq", seq, "err", err)
		return 0
	}
	l.metrics.snapshotTaken(info.ModTime)
	l.log.Info("snapshot restored", "seq", seq, "bytes", len(data))
	return seq
}

// takeSnapshot encodes the world as of input seq, or with a Capturer
// copies it and leaves the encoding to storeSnapshot's goroutine.
func (l *Loop) takeSnapshot(seq uint64) *pendingSnapshot {
	s, ok := l.h.(Snapshotter)
	if !ok || l.cfg.SnapshotEvery < 0 {
		return nil
	}
	start := time.Now()
	if c, ok := s.(Capturer); ok {
		encode := c.Capture()
		l.log.Debug("snapshot captured", "seq", seq, "took", time.Since(start))
		return &pendingSnapshot{seq: seq, encode: encode, at: start}
	}
	data, err := s.Snapshot()
	if err != nil {
		l.log.Error("snapshot failed", "seq", seq, "err", err)
		return nil
	}
	l.log.Debug("snapshot taken", "seq", seq, "bytes", len(data), "took", time.Since(start))
	return &pendingSnapshot{seq: seq, data: data, at: start}
}

// storeSnapshot writes a snapshot whose inputs are all complete.
func (l *Loop) storeSnapshot(ctx context.Context, p *pendingSnapshot) error {
	if p.encode != nil {
		data, err := p.encode()
		if err != nil {
			return fmt.Errorf("encode snapshot: %w", err)
		}
		p.data, p.encode = data, nil
	}
	obs, err := l.js.ObjectStore(ctx, natskit.SnapshotBucket)
	if err != nil {
		return fmt.Errorf("snapshot store: %w", err)
	}
	meta := jetstream.ObjectMeta{Name: l.cfg.Name, Metadata: map[string]string{snapshotMeta: strconv.FormatUint(p.seq, 10)}}
	if _, err := obs.Put(ctx, meta, bytes.NewReader(p.data)); err != nil {
		return fmt.Errorf("store snapshot: %w", err)
	}
	l.metrics.snapshotTaken(p.at)
	return nil
}
