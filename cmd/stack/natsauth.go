package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"chirp/contract"
	"chirp/natskit"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Files the embedded mode keeps in the data folder, both mode 0600.
const (
	// UsersFile holds every component's NATS user and password, made
	// randomly on first start and kept afterwards.
	UsersFile = "nats-users.json"
	// CLIEnvFile points the nats CLI at the embedded NATS as operator:
	// `. ./data/nats.env` in a shell, then `nats sub 'chirp.evt.>'`.
	CLIEnvFile = "nats.env"
)

// embeddedUsers returns the embedded NATS's users: those of the data
// folder, or fresh ones kept in memory when there is no data folder.
func embeddedUsers(dataDir string) (natskit.Users, error) {
	if dataDir == "" {
		return natskit.NewUsers()
	}
	return natskit.LoadOrCreateUsers(filepath.Join(dataDir, UsersFile))
}

// writeCLIEnv writes the nats CLI settings for the embedded NATS.
func writeCLIEnv(dataDir, url string, users natskit.Users) error {
	if dataDir == "" {
		return nil
	}
	return natskit.WriteCLIEnv(filepath.Join(dataDir, CLIEnvFile), url, users[natskit.RoleOperator])
}

// connectOptions are the options of the connection of role name: its
// credentials (its own user with an embedded NATS, the configured one with
// an external NATS), its inbox prefix, and a log of asynchronous errors
// such as permission violations.
func (s *Stack) connectOptions(cfg Config, name string) []nats.Option {
	role := natskit.Role(name)
	creds := cfg.NATSCredentials
	if s.NATSUsers != nil {
		creds = s.NATSUsers[role]
	}
	log := cfg.Log
	return append(creds.Options(),
		nats.CustomInboxPrefix(natskit.InboxPrefix(role)),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			attrs := []any{"component", name, "err", err}
			if sub != nil {
				attrs = append(attrs, "subject", sub.Subject)
			}
			log.Warn("nats error", attrs...)
		}),
	)
}

// setupRole is the identity that creates the streams and waits for the
// services: the operator with an embedded NATS; with an external one the
// process's own (the first service it runs, else the gateway).
func setupRole(cfg Config, want map[string]bool) string {
	if cfg.NATSURL == "" {
		return string(natskit.RoleOperator)
	}
	for _, r := range natskit.ServiceRoles {
		if want[string(r)] {
			return string(r)
		}
	}
	return string(natskit.RoleGateway)
}

// streamWait bounds how long a gateway waits for the services to create
// the stream.
const streamWait = 60 * time.Second

// ensureStreams creates or updates the streams, except for a gateway with
// its own credentials on an external NATS: it may not, and waits for a
// service to have done it.
func ensureStreams(ctx context.Context, js jetstream.JetStream, cfg Config, setup string) error {
	if cfg.NATSURL == "" {
		return natskit.EnsureStreams(ctx, js, cfg.StreamReplicas)
	}
	if cfg.NATSCredentials.User == "" || setup != string(natskit.RoleGateway) {
		// A cluster that has just elected its leaders may take longer
		// than one API timeout to create a replicated stream: keep
		// trying rather than exit and be restarted.
		deadline := time.Now().Add(streamWait)
		for {
			err := natskit.EnsureStreams(ctx, js, cfg.StreamReplicas)
			if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
				return err
			}
			cfg.Log.Warn("streams not created yet, retrying", "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	deadline := time.Now().Add(streamWait)
	for {
		_, err := js.Stream(ctx, contract.StreamName)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stream %s: no service created it within %v: %w", contract.StreamName, streamWait, err)
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			cfg.Log.Warn("waiting for the stream", "stream", contract.StreamName, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// drainAll drains the connections, newest first, and waits until they are
// closed; when ctx ends first it closes the rest at once.
func drainAll(ctx context.Context, conns []*nats.Conn) error {
	for i := len(conns) - 1; i >= 0; i-- {
		if err := conns[i].Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			slog.Debug("drain", "err", err)
		}
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		open := 0
		for _, nc := range conns {
			if !nc.IsClosed() {
				open++
			}
		}
		if open == 0 {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			for _, nc := range conns {
				nc.Close()
			}
			return fmt.Errorf("drain nats: %d connections still draining: %w", open, ctx.Err())
		}
	}
}
