package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"chirp/contract"
	"chirp/natskit"

	"github.com/nats-io/nats.go/jetstream"
)

// feedName is the feed service's durable consumer and snapshot object.
const feedName = "feed"

// snapshotSeqMeta is the snapshot object's metadata key holding the stream
// sequence it covers (written by services/loop).
const snapshotSeqMeta = "chirp-seq"

// catchUpResult describes the first run of the feed service over the
// generated stream.
type catchUpResult struct {
	Took          time.Duration // until every input was acknowledged
	SnapshotSeq   uint64        // the sequence the stored snapshot covers
	SnapshotBytes uint64
	SnapshotWait  time.Duration // after Took, until that snapshot was stored
}

// catchUp runs the feed service until its durable consumer has
// acknowledged lastSeq and a snapshot covering lastSeq is stored (or
// snapWait has passed; the loop then restores an older snapshot and
// replays a longer tail), then stops it.
func catchUp(ctx context.Context, url string, js jetstream.JetStream, lastSeq uint64, snapWait time.Duration, rl *recoveryLog, log *slog.Logger) (catchUpResult, error) {
	var res catchUpResult
	start := time.Now()
	f, err := startFeed(ctx, url, rl)
	if err != nil {
		return res, err
	}
	defer func() { _ = f.stop() }()
	lastLog := time.Now()
	for {
		cons, err := js.Consumer(ctx, contract.StreamName, feedName)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return res, fmt.Errorf("feed consumer: %w", err)
		}
		var floor uint64
		if err == nil {
			floor = cons.CachedInfo().AckFloor.Stream
		}
		if floor >= lastSeq {
			break
		}
		if err := f.failed(); err != nil {
			return res, err
		}
		if time.Since(lastLog) > 10*time.Second {
			log.Info("feed catching up", "ack_floor", floor, "of", lastSeq)
			lastLog = time.Now()
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return res, err
		}
	}
	res.Took = time.Since(start)
	obs, err := js.ObjectStore(ctx, natskit.SnapshotBucket)
	if err != nil {
		return res, fmt.Errorf("snapshot bucket: %w", err)
	}
	deadline := time.Now().Add(snapWait)
	for {
		info, err := obs.GetInfo(ctx, feedName)
		if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return res, fmt.Errorf("snapshot info: %w", err)
		}
		if err == nil {
			res.SnapshotSeq, _ = strconv.ParseUint(info.Metadata[snapshotSeqMeta], 10, 64)
			res.SnapshotBytes = info.Size
		}
		if res.SnapshotSeq >= lastSeq || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return res, err
		}
	}
	res.SnapshotWait = time.Since(start) - res.Took
	if err := f.stop(); err != nil {
		return res, err
	}
	return res, nil
}

// restartSample is one measured start of the feed service.
type restartSample struct {
	Ready     time.Duration // feedsvc.Run start until a feed read is answered
	Recovery  recovery      // as the loop logged it
	WorldHeap uint64        // live heap added by the running service, after GC
	RSS       uint64        // the whole process (embedded NATS included)
}

// measureRestarts starts and stops the feed service reps times.
func measureRestarts(ctx context.Context, url string, reps int, rl *recoveryLog, log *slog.Logger, label string) ([]restartSample, error) {
	var out []restartSample
	for i := 0; i < reps; i++ {
		before := liveHeap()
		rl.take()
		f, err := startFeed(ctx, url, rl)
		if err != nil {
			return out, fmt.Errorf("%s run %d: %w", label, i+1, err)
		}
		s := restartSample{Ready: f.Ready}
		if r := rl.take(); r != nil {
			s.Recovery = *r
		}
		if after := liveHeap(); after > before {
			s.WorldHeap = after - before
		}
		s.RSS = processRSS()
		if err := f.stop(); err != nil {
			return out, fmt.Errorf("%s run %d: %w", label, i+1, err)
		}
		log.Info("restart measured", "case", label, "run", i+1, "ready", s.Ready.Round(time.Millisecond),
			"replayed", s.Recovery.Replayed, "snapshot_seq", s.Recovery.SnapshotSeq)
		out = append(out, s)
	}
	return out, nil
}

// deleteSnapshot removes the feed snapshot so the next start replays the
// whole stream.
func deleteSnapshot(ctx context.Context, js jetstream.JetStream) error {
	obs, err := js.ObjectStore(ctx, natskit.SnapshotBucket)
	if err != nil {
		return fmt.Errorf("snapshot bucket: %w", err)
	}
	if err := obs.Delete(ctx, feedName); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("delete feed snapshot: %w", err)
	}
	return nil
}

// liveHeap returns the heap in use after a full collection, with freed
// memory handed back to the OS so RSS readings do not carry old garbage.
func liveHeap() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
