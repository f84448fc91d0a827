package feedsvc

import (
	"context"
	"fmt"
	"log/slog"

	"chirp/contract"
	"chirp/services/feed"
	"chirp/services/loop"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
)

// Config configures the feed service.
type Config struct {
	Version string
	Log     *slog.Logger
	// Ops exports the world's metrics and readiness.
	Ops loop.Ops
	// Snapshots is how often the world snapshots itself.
	Snapshots loop.SnapshotPolicy
	// Partition is the share of accounts this instance owns.
	Partition contract.Partition
}

// Run serves the feed service until ctx ends.
func Run(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Version == "" {
		cfg.Version = "0.1.0"
	}
	if err := loop.CheckPartition(cfg.Partition); err != nil {
		return err
	}
	lp := loop.New(nc, js, loop.Config{
		Name:    loop.WorldName("feed", cfg.Partition),
		Service: "feed",
		Filters: []string{
			contract.EvtTweetPosted + ".>", contract.EvtTweetLiked + ".>",
			contract.EvtUserFollowed + ".>", "chirp.evt.gateway.>",
		},
		Log:       cfg.Log,
		Partition: cfg.Partition,
		Ops:       cfg.Ops,

		SnapshotEvery:    cfg.Snapshots.Every,
		SnapshotInterval: cfg.Snapshots.Interval,
	}, &handler{w: feed.NewPartition(cfg.Partition)})
	svc, err := micro.AddService(nc, micro.Config{Name: "feed", Version: cfg.Version, Description: loop.Describe("Chirp home feeds and live pushes", cfg.Partition), Metadata: loop.Metadata("feed", cfg.Partition)})
	if err != nil {
		return fmt.Errorf("register feed service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	read := func(req micro.Request) {
		var r contract.FeedRequest
		if !loop.Decode(req, &r) {
			return
		}
		lp.Query(loop.AsMsg(req))
	}
	if err := svc.AddEndpoint("read", micro.HandlerFunc(read), append(loop.QueryOpts("feed", cfg.Partition), micro.WithEndpointSubject(contract.SubjFeed))...); err != nil {
		return fmt.Errorf("add endpoint read: %w", err)
	}
	resume := func(req micro.Request) {
		var r contract.ResumeRequest
		if !loop.Decode(req, &r) {
			return
		}
		lp.Query(loop.AsMsg(req))
	}
	if err := svc.AddEndpoint("resume", micro.HandlerFunc(resume), append(loop.QueryOpts("feed", cfg.Partition), micro.WithEndpointSubject(contract.SubjResume))...); err != nil {
		return fmt.Errorf("add endpoint resume: %w", err)
	}
	return lp.Run(ctx)
}
