package tweetsvc

import (
	"context"
	"fmt"
	"log/slog"

	"chirp/contract"
	"chirp/services/loop"
	"chirp/services/tweet"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
)

// Config configures the tweet service.
type Config struct {
	Version string
	Log     *slog.Logger
	// Ops exports the world's metrics and readiness.
	Ops loop.Ops
	// Snapshots is how often the world snapshots itself.
	Snapshots loop.SnapshotPolicy
	// Partition is the share of authors this instance owns.
	Partition contract.Partition
}

// Run serves the tweet service until ctx ends.
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
		Name:      loop.WorldName("tweet", cfg.Partition),
		Service:   "tweet",
		Filters:   []string{contract.CmdPost + ".>", contract.CmdLike + ".>", contract.EvtUserCreated + ".>"},
		Log:       cfg.Log,
		Partition: cfg.Partition,
		Ops:       cfg.Ops,

		SnapshotEvery:    cfg.Snapshots.Every,
		SnapshotInterval: cfg.Snapshots.Interval,
	}, &handler{w: tweet.NewPartition(cfg.Partition)})
	in := loop.NewIngress(ctx, nc, js, cfg.Log)

	svc, err := micro.AddService(nc, micro.Config{Name: "tweet", Version: cfg.Version, Description: loop.Describe("Chirp tweets and likes", cfg.Partition), Metadata: loop.Metadata("tweet", cfg.Partition)})
	if err != nil {
		return fmt.Errorf("register tweet service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	post := func(req micro.Request) {
		var r contract.PostRequest
		if !loop.Decode(req, &r) {
			return
		}
		if !contract.ValidHandle(r.Author) {
			loop.Reject(req, contract.CodeBadRequest, "author must be a handle")
			return
		}
		if !contract.ValidText(r.Text) {
			loop.Reject(req, contract.CodeInvalid, "text must be 1-280 characters of valid UTF-8")
			return
		}
		in.Accept(req, contract.Subject(contract.CmdPost, contract.Key(r.Author)), r)
	}
	like := func(req micro.Request) {
		var r contract.LikeRequest
		if !loop.Decode(req, &r) {
			return
		}
		if !contract.ValidHandle(r.User) {
			loop.Reject(req, contract.CodeBadRequest, "user must be a handle")
			return
		}
		author, ok := contract.TweetAuthorKey(r.Tweet)
		if !ok {
			loop.Reject(req, contract.CodeNotFound, "no such tweet: "+r.Tweet)
			return
		}
		in.Accept(req, contract.Subject(contract.CmdLike, author), r)
	}
	if err := svc.AddEndpoint("post", micro.HandlerFunc(post), micro.WithEndpointSubject(contract.SubjPost), micro.WithEndpointPendingLimits(-1, -1)); err != nil {
		return fmt.Errorf("add endpoint post: %w", err)
	}
	if err := svc.AddEndpoint("like", micro.HandlerFunc(like), micro.WithEndpointSubject(contract.SubjLike), micro.WithEndpointPendingLimits(-1, -1)); err != nil {
		return fmt.Errorf("add endpoint like: %w", err)
	}
	return lp.Run(ctx)
}
