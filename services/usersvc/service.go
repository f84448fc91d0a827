package usersvc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"

	"chirp/contract"
	"chirp/services/loop"
	"chirp/services/user"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"golang.org/x/crypto/bcrypt"
)

// Config configures the user service.
type Config struct {
	// BcryptCost is the password hashing cost (bcrypt.MinCost for load
	// tests, bcrypt.DefaultCost or more in production).
	BcryptCost int
	// Hashers is the number of goroutines hashing passwords.
	Hashers int
	Version string
	Log     *slog.Logger
	// Ops exports the world's metrics and readiness.
	Ops loop.Ops
	// Snapshots is how often the world snapshots itself.
	Snapshots loop.SnapshotPolicy
	// Partition is the share of accounts this instance owns.
	Partition contract.Partition
}

// Run serves the user service until ctx ends.
func Run(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg Config) error {
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.BcryptCost < bcrypt.MinCost || cfg.BcryptCost > bcrypt.MaxCost {
		return fmt.Errorf("bcrypt cost %d outside %d-%d", cfg.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if cfg.Hashers <= 0 {
		cfg.Hashers = runtime.NumCPU()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := loop.CheckPartition(cfg.Partition); err != nil {
		return err
	}
	filters := []string{contract.CmdSignup + ".>", contract.CmdFollow + ".>"}
	if !cfg.Partition.Single() {
		// Partitions learn of accounts owned elsewhere from their events.
		filters = append(filters, contract.EvtUserCreated+".>")
	}
	lp := loop.New(nc, js, loop.Config{
		Name:      loop.WorldName("user", cfg.Partition),
		Service:   "user",
		Filters:   filters,
		Log:       cfg.Log,
		Partition: cfg.Partition,
		Ops:       cfg.Ops,

		SnapshotEvery:    cfg.Snapshots.Every,
		SnapshotInterval: cfg.Snapshots.Interval,
	}, &handler{w: user.NewPartition(cfg.Partition)})
	in := loop.NewIngress(ctx, nc, js, cfg.Log)

	hashing := make(chan func(), 4096)
	for range cfg.Hashers {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case f := <-hashing:
					f()
				}
			}
		}()
	}

	svc, err := micro.AddService(nc, micro.Config{Name: "user", Version: version(cfg.Version), Description: loop.Describe("Chirp accounts, passwords and the follow graph", cfg.Partition), Metadata: loop.Metadata("user", cfg.Partition)})
	if err != nil {
		return fmt.Errorf("register user service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	endpoints := []struct {
		name, subject string
		h             micro.HandlerFunc
		query         bool
	}{
		{"signup", contract.SubjSignup, func(req micro.Request) {
			var r contract.SignupRequest
			if !loop.Decode(req, &r) {
				return
			}
			if !contract.ValidHandle(r.Handle) {
				loop.Reject(req, contract.CodeInvalid, "handle must be 1-30 characters of A-Z, a-z, 0-9 and _")
				return
			}
			if !contract.ValidPassword(r.Password) {
				loop.Reject(req, contract.CodeInvalid, "password must be 8-72 bytes")
				return
			}
			job := func() {
				hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), cfg.BcryptCost)
				if err != nil {
					loop.Reject(req, contract.CodeInternal, "could not hash the password")
					return
				}
				in.Accept(req, contract.Subject(contract.CmdSignup, contract.Key(r.Handle)), contract.SignupCmd{Handle: r.Handle, Hash: string(hash)})
			}
			select {
			case hashing <- job:
			default:
				loop.Reject(req, contract.CodeUnavailable, "too many signups in progress")
			}
		}, false},
		{"login", contract.SubjLogin, func(req micro.Request) {
			var r contract.LoginRequest
			if !loop.Decode(req, &r) {
				return
			}
			lp.Query(loop.AsMsg(req))
		}, true},
		{"follow", contract.SubjFollow, func(req micro.Request) {
			var r contract.FollowRequest
			if !loop.Decode(req, &r) {
				return
			}
			if !contract.ValidHandle(r.Follower) {
				loop.Reject(req, contract.CodeBadRequest, "follower must be a handle")
				return
			}
			in.Accept(req, contract.Subject(contract.CmdFollow, contract.Key(r.Follower)), r)
		}, false},
	}
	for _, ep := range endpoints {
		opts := []micro.EndpointOpt{micro.WithEndpointPendingLimits(-1, -1)}
		if ep.query {
			opts = loop.QueryOpts("user", cfg.Partition)
		}
		if err := svc.AddEndpoint(ep.name, ep.h, append(opts, micro.WithEndpointSubject(ep.subject))...); err != nil {
			return fmt.Errorf("add endpoint %s: %w", ep.name, err)
		}
	}
	return lp.Run(ctx)
}

func version(v string) string {
	if v == "" {
		return "0.1.0"
	}
	return v
}
