// Package stack assembles Chirp's components in one process: an embedded
// or external NATS, the user, tweet and feed services, and a gateway
// serving HTTP. `chirp run` and the integration tests start it the same way.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"chirp/gateway"
	"chirp/natskit"
	"chirp/services/feedsvc"
	"chirp/services/tweetsvc"
	"chirp/services/usersvc"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config selects what runs. Zero values of optional fields get defaults.
type Config struct {
	HTTPAddr   string // gateway listen address; "" runs no gateway
	NATSURL    string // external NATS; "" embeds one
	NATSListen string // embedded NATS listen address
	DataDir    string // embedded NATS JetStream files
	SyncAlways bool
	// Services to run: any of "user", "tweet", "feed", "gateway".
	// Empty means all four.
	Components []string
	Gateway    gateway.Config
	BcryptCost int
	Version    string
	Log        *slog.Logger
}

// Stack is a running set of components.
type Stack struct {
	NATS     *server.Server // nil with an external NATS
	NATSURL  string
	HTTPAddr string // the address actually listened on
	errs     chan error
	cancel   context.CancelFunc
	http     *http.Server
	gw       *gateway.Gateway
	conns    []*nats.Conn
	done     chan struct{}
}

// Start starts the components and returns once they take requests.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	want := map[string]bool{}
	for _, c := range cfg.Components {
		want[c] = true
	}
	if len(want) == 0 {
		want = map[string]bool{"user": true, "tweet": true, "feed": true, "gateway": true}
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Stack{cancel: cancel, errs: make(chan error, 8), done: make(chan struct{})}
	fail := func(err error) (*Stack, error) { s.Close(); return nil, err }

	s.NATSURL = cfg.NATSURL
	if s.NATSURL == "" {
		ns, err := natskit.StartServer(natskit.ServerConfig{
			Listen: cfg.NATSListen, StoreDir: filepath.Join(cfg.DataDir, "jetstream"), SyncAlways: cfg.SyncAlways,
		})
		if err != nil {
			return fail(err)
		}
		s.NATS = ns
		s.NATSURL = ns.ClientURL()
	}
	connect := func(name string) (*nats.Conn, jetstream.JetStream, error) {
		nc, err := natskit.Connect(s.NATSURL, name)
		if err != nil {
			return nil, nil, err
		}
		s.conns = append(s.conns, nc)
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192))
		if err != nil {
			return nil, nil, fmt.Errorf("jetstream: %w", err)
		}
		return nc, js, nil
	}
	_, js, err := connect("chirp-setup")
	if err != nil {
		return fail(err)
	}
	if err := natskit.EnsureStreams(ctx, js, 1); err != nil {
		return fail(err)
	}
	type runner func(context.Context, *nats.Conn, jetstream.JetStream) error
	services := []struct {
		name string
		run  runner
	}{
		{"user", func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) error {
			return usersvc.Run(ctx, nc, js, usersvc.Config{BcryptCost: cfg.BcryptCost, Version: cfg.Version, Log: cfg.Log})
		}},
		{"tweet", func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) error {
			return tweetsvc.Run(ctx, nc, js, tweetsvc.Config{Version: cfg.Version, Log: cfg.Log})
		}},
		{"feed", func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) error {
			return feedsvc.Run(ctx, nc, js, feedsvc.Config{Version: cfg.Version, Log: cfg.Log})
		}},
	}
	running := 0
	for _, svc := range services {
		if !want[svc.name] {
			continue
		}
		nc, js, err := connect("chirp-" + svc.name)
		if err != nil {
			return fail(err)
		}
		running++
		go func() {
			err := svc.run(ctx, nc, js)
			if err != nil && ctx.Err() == nil {
				s.errs <- fmt.Errorf("%s service: %w", svc.name, err)
			}
		}()
	}
	if want["gateway"] {
		nc, js, err := connect("chirp-gateway")
		if err != nil {
			return fail(err)
		}
		gcfg := cfg.Gateway
		if gcfg.Log == nil {
			gcfg.Log = cfg.Log
		}
		gw, err := gateway.New(nc, js, gcfg)
		if err != nil {
			return fail(err)
		}
		if err := gw.Start(ctx); err != nil {
			return fail(err)
		}
		s.gw = gw
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fail(fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err))
		}
		s.HTTPAddr = ln.Addr().String()
		s.http = &http.Server{Handler: gw.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("http: %w", err)
			}
		}()
	}
	if running > 0 {
		if err := s.waitServices(ctx, want); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

// waitServices returns once every wanted service answers on NATS micro's
// PING, i.e. has registered its endpoints.
func (s *Stack) waitServices(ctx context.Context, want map[string]bool) error {
	nc := s.conns[0]
	deadline := time.Now().Add(30 * time.Second)
	for name := range want {
		if name == "gateway" {
			continue
		}
		for {
			if _, err := nc.Request("$SRV.PING."+name, nil, 500*time.Millisecond); err == nil {
				break
			}
			select {
			case err := <-s.errs:
				return err
			case <-ctx.Done():
				return ctx.Err()
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s service did not start within 30s", name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// Err delivers the first fatal error of a component.
func (s *Stack) Err() <-chan error { return s.errs }

// Close stops everything: the HTTP server, the services, NATS.
func (s *Stack) Close() {
	select {
	case <-s.done:
		return
	default:
		close(s.done)
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
	}
	if s.gw != nil {
		s.gw.Close()
	}
	s.cancel()
	for i := len(s.conns) - 1; i >= 0; i-- {
		_ = s.conns[i].Drain()
	}
	if s.NATS != nil {
		s.NATS.Shutdown()
		s.NATS.WaitForShutdown()
	}
}
