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
}

// Run serves the feed service until ctx ends.
func Run(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Version == "" {
		cfg.Version = "0.1.0"
	}
	lp := loop.New(nc, js, loop.Config{
		Name: "feed",
		Filters: []string{
			contract.EvtTweetPosted + ".>", contract.EvtTweetLiked + ".>",
			contract.EvtUserFollowed + ".>", "chirp.evt.gateway.>",
		},
		Log: cfg.Log,
	}, &handler{w: feed.New()})
	svc, err := micro.AddService(nc, micro.Config{Name: "feed", Version: cfg.Version, Description: "Chirp home feeds and live pushes"})
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
	if err := svc.AddEndpoint("read", micro.HandlerFunc(read), micro.WithEndpointSubject(contract.SubjFeed), micro.WithEndpointPendingLimits(-1, -1)); err != nil {
		return fmt.Errorf("add endpoint read: %w", err)
	}
	resume := func(req micro.Request) {
		var r contract.ResumeRequest
		if !loop.Decode(req, &r) {
			return
		}
		lp.Query(loop.AsMsg(req))
	}
	if err := svc.AddEndpoint("resume", micro.HandlerFunc(resume), micro.WithEndpointSubject(contract.SubjResume), micro.WithEndpointPendingLimits(-1, -1)); err != nil {
		return fmt.Errorf("add endpoint resume: %w", err)
	}
	return lp.Run(ctx)
}
