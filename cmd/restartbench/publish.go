package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"chirp/contract"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishWindow is how many stream publishes are in flight at once.
const publishWindow = 2048

// publishResult describes the generation phase.
type publishResult struct {
	Events  int
	Mix     eventMix
	Took    time.Duration
	LastSeq uint64
	Bytes   uint64 // stream bytes on disk after publishing
}

// publishEvents stores n generated events on the CHIRP stream, keeping at
// most publishWindow unacknowledged publishes, and returns once all are
// acknowledged.
func publishEvents(ctx context.Context, js jetstream.JetStream, gen *generator, n int, log *slog.Logger) (publishResult, error) {
	start := time.Now()
	futures := make([]jetstream.PubAckFuture, publishWindow)
	wait := func(f jetstream.PubAckFuture) error {
		if f == nil {
			return nil
		}
		select {
		case <-f.Ok():
			return nil
		case err := <-f.Err():
			return fmt.Errorf("publish %s: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	lastLog := time.Now()
	for i := 0; i < n; i++ {
		slot := i % publishWindow
		if err := wait(futures[slot]); err != nil {
			return publishResult{}, err
		}
		subject, data, err := gen.next(i)
		if err != nil {
			return publishResult{}, err
		}
		f, err := js.PublishMsgAsync(&nats.Msg{Subject: subject, Data: data})
		if err != nil {
			return publishResult{}, fmt.Errorf("publish event %d: %w", i, err)
		}
		futures[slot] = f
		if time.Since(lastLog) > 10*time.Second {
			log.Info("publishing", "done", i, "of", n)
			lastLog = time.Now()
		}
	}
	for _, f := range futures {
		if err := wait(f); err != nil {
			return publishResult{}, err
		}
	}
	took := time.Since(start)
	st, err := js.Stream(ctx, contract.StreamName)
	if err != nil {
		return publishResult{}, fmt.Errorf("stream info: %w", err)
	}
	info := st.CachedInfo()
	return publishResult{Events: n, Mix: gen.mix, Took: took, LastSeq: info.State.LastSeq, Bytes: info.State.Bytes}, nil
}
