package loop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"chirp/contract"

	"github.com/nats-io/nats.go/jetstream"
)

// feed is one iterator over the world's durable consumer and the goroutine
// that hands its deliveries to the loop.
type feed struct {
	it     jetstream.MessagesContext
	inputs chan jetstream.Msg
	// last is the consumer sequence of the last delivery the loop took
	// from this consumer (0: none yet). The server numbers every delivery,
	// first or redelivered, one more than the one before, so the next must
	// carry last+1; anything else means a delivery was lost on the way.
	last uint64
}

// consume starts taking deliveries from cons.
func (l *Loop) consume(cons jetstream.Consumer) (*feed, error) {
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", l.cfg.Name, err)
	}
	f := &feed{it: it, inputs: make(chan jetstream.Msg, 1024)}
	go func() {
		defer close(f.inputs)
		for {
			m, err := it.Next()
			if errors.Is(err, jetstream.ErrNoHeartbeat) {
				// The iterator re-issues its pull by itself: missed
				// heartbeats mean a busy server or a short network
				// outage, not a dead consumer. Deliveries lost with the
				// old pull show as a gap in the consumer sequence.
				l.log.Warn("consumer missed heartbeats, pulling again", "err", err)
				continue
			}
			if err != nil {
				if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					l.log.Error("consumer stopped", "err", err)
				}
				return
			}
			f.inputs <- m
		}
	}()
	return f, nil
}

// stop ends the iterator and waits for its goroutine, dropping the
// deliveries it had taken: they are not acknowledged, and the consumer
// they came from is about to be replaced or the loop is ending.
func (f *feed) stop() {
	f.it.Stop()
	for range f.inputs {
	}
}

// maxResetBackoff bounds the wait between two attempts to recreate the
// consumer while the cluster cannot (no quorum, no leader yet).
const maxResetBackoff = 5 * time.Second

// reset replaces the durable consumer after a lost delivery. It waits
// until barrier is closed, that is until every input stepped so far has
// its effects performed and is acknowledged, then deletes the consumer and
// creates it again to start right after applied, and hands its feed to the
// loop on out. Nothing after applied was stepped, so nothing is stepped
// twice; the new consumer's ack floor is applied, which is true, so a world
// of another partitioning taking over from it (inheritedFloor) starts from
// the right place. It retries with backoff until it succeeds or ctx ends.
func (l *Loop) reset(ctx context.Context, barrier <-chan struct{}, applied uint64, out chan<- *feed) {
	select {
	case <-barrier:
	case <-ctx.Done():
		return
	}
	start := time.Now()
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, maxResetBackoff) {
		f, err := l.recreate(ctx, applied)
		if err == nil {
			l.log.Info("consumer recreated after a lost delivery", "applied", applied, "took", time.Since(start).Round(time.Millisecond))
			select {
			case out <- f:
			case <-ctx.Done():
				f.stop()
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("consumer reset failed, retrying", "applied", applied, "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
	}
}

// resetTimeout bounds each request of one attempt to recreate the consumer.
const resetTimeout = 10 * time.Second

// recreate deletes the durable consumer (if it is still there) and creates
// it again starting right after applied.
func (l *Loop) recreate(ctx context.Context, applied uint64) (*feed, error) {
	rctx, cancel := context.WithTimeout(ctx, resetTimeout)
	defer cancel()
	err := l.js.DeleteConsumer(rctx, contract.StreamName, l.cfg.Name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("delete consumer %s: %w", l.cfg.Name, err)
	}
	cons, err := l.js.CreateConsumer(rctx, contract.StreamName, l.consumerConfig(applied))
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", l.cfg.Name, err)
	}
	return l.consume(cons)
}
