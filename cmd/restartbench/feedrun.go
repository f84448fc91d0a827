package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"chirp/contract"
	"chirp/natskit"
	"chirp/services/feedsvc"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// feedRun is one running feed service, on its own NATS connection as in
// the one-process stack.
type feedRun struct {
	nc      *nats.Conn
	cancel  context.CancelFunc
	errc    chan error
	stopped bool
	stopErr error
	// Ready is the time from the start of feedsvc.Run until the first
	// chirp.feed.read was answered, i.e. until the world had recovered.
	Ready time.Duration
}

// startFeed starts feedsvc.Run and returns once a feed read is answered.
func startFeed(ctx context.Context, url string, rl *recoveryLog) (*feedRun, error) {
	nc, err := natskit.Connect(url, "restartbench-feed")
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	probe, err := natskit.Connect(url, "restartbench-probe")
	if err != nil {
		nc.Close()
		return nil, err
	}
	defer probe.Close()
	rctx, cancel := context.WithCancel(ctx)
	f := &feedRun{nc: nc, cancel: cancel, errc: make(chan error, 1)}
	start := time.Now()
	go func() { f.errc <- feedsvc.Run(rctx, nc, js, feedsvc.Config{Log: slog.New(rl)}) }()
	req := []byte(`{"user":"u0","limit":1}`)
	for {
		_, err := probe.Request(contract.SubjFeed, req, 5*time.Minute)
		if err == nil {
			f.Ready = time.Since(start)
			return f, nil
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			f.stop()
			return nil, fmt.Errorf("first feed read: %w", err)
		}
		select {
		case err := <-f.errc:
			cancel()
			nc.Close()
			return nil, fmt.Errorf("feed service ended before it was ready: %w", err)
		case <-ctx.Done():
			f.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stop ends the service and waits for it; later calls return the same.
func (f *feedRun) stop() error {
	if f.stopped {
		return f.stopErr
	}
	f.stopped = true
	f.cancel()
	var err error
	select {
	case err = <-f.errc:
	case <-time.After(30 * time.Second):
		err = errors.New("feed service did not stop within 30s")
	}
	f.nc.Close()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	f.stopErr = err
	return err
}

// failed reports an error the service ended with while it should be running.
func (f *feedRun) failed() error {
	select {
	case err := <-f.errc:
		f.errc <- err
		return fmt.Errorf("feed service stopped: %w", err)
	default:
		return nil
	}
}
