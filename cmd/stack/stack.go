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

	"chirp/contract"
	"chirp/gateway"
	"chirp/natskit"
	"chirp/services/feedsvc"
	"chirp/services/loop"
	"chirp/services/tweetsvc"
	"chirp/services/usersvc"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Config selects what runs. Zero values of optional fields get defaults.
type Config struct {
	HTTPAddr   string // gateway listen address; "" runs no gateway
	NATSURL    string // external NATS; "" embeds one
	NATSListen string // embedded NATS listen address
	// NATSCredentials, with an external NATS, is the user every connection
	// of this process presents (empty: none). An embedded NATS ignores it:
	// it admits only its own users (auth.go), one per component.
	NATSCredentials natskit.Credentials
	DataDir         string // embedded NATS JetStream files and users
	SyncAlways      bool
	// StreamReplicas is how many copies of the CHIRP stream and the
	// snapshot bucket a clustered external NATS keeps (0 or 1: one). Every
	// process that creates the streams must use the same value, or each
	// start would change it back.
	StreamReplicas int
	// Services to run: any of "user", "tweet", "feed", "gateway".
	// Empty means all four.
	Components []string
	// Partitions is how many partitions each service runs as (0 or 1:
	// one). The stack runs all of them, or only partition Partition when
	// OnePartition is set (one partition per process, as compose runs
	// them).
	Partitions   int
	Partition    int
	OnePartition bool
	Gateway      gateway.Config
	BcryptCost   int
	// Snapshots is how often every world snapshots itself.
	Snapshots loop.SnapshotPolicy
	Version   string
	Log       *slog.Logger
}

// Stack is a running set of components.
type Stack struct {
	NATS    *server.Server // nil with an external NATS
	NATSURL string
	// NATSUsers are the embedded NATS's users (nil with an external
	// NATS); NATSUsers[natskit.RoleOperator] may do everything.
	NATSUsers natskit.Users
	HTTPAddr  string // the address actually listened on
	// Metrics holds every component's Prometheus collectors (ops.go).
	Metrics *prometheus.Registry
	worlds  []world
	log     *slog.Logger
	errs    chan error
	cancel  context.CancelFunc
	http    *http.Server
	gw      *gateway.Gateway
	conns   []*nats.Conn
	done    chan struct{}
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
	s := &Stack{cancel: cancel, errs: make(chan error, 8), done: make(chan struct{}), Metrics: newRegistry(), log: cfg.Log}
	fail := func(err error) (*Stack, error) { s.Close(); return nil, err }

	s.NATSURL = cfg.NATSURL
	if s.NATSURL == "" {
		users, err := embeddedUsers(cfg.DataDir)
		if err != nil {
			return fail(err)
		}
		s.NATSUsers = users
		ns, err := natskit.StartServer(natskit.ServerConfig{
			Listen: cfg.NATSListen, StoreDir: filepath.Join(cfg.DataDir, "jetstream"), SyncAlways: cfg.SyncAlways,
			Users: users,
		})
		if err != nil {
			return fail(err)
		}
		s.NATS = ns
		s.NATSURL = ns.ClientURL()
		if err := writeCLIEnv(cfg.DataDir, s.NATSURL, users); err != nil {
			return fail(err)
		}
	}
	connect := func(name string) (*nats.Conn, jetstream.JetStream, error) {
		nc, err := natskit.Connect(s.NATSURL, "chirp-"+name, s.connectOptions(cfg, name)...)
		if err != nil {
			return nil, nil, err
		}
		s.conns = append(s.conns, nc)
		// Without a timeout, an async publish whose acknowledgement was
		// lost with a NATS node never resolves: its slot stays taken and
		// whoever waits on it (a gateway attaching an account, a service
		// storing a command) waits for good.
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192), jetstream.WithPublishAsyncTimeout(loop.PubAckWait))
		if err != nil {
			return nil, nil, fmt.Errorf("jetstream: %w", err)
		}
		return nc, js, nil
	}
	setup := setupRole(cfg, want)
	_, js, err := connect(setup)
	if err != nil {
		return fail(err)
	}
	if err := ensureStreams(ctx, js, cfg, setup); err != nil {
		return fail(err)
	}
	type runner func(context.Context, *nats.Conn, jetstream.JetStream, contract.Partition, loop.Ops) error
	services := []struct {
		name string
		run  runner
	}{
		{"user", func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, p contract.Partition, ops loop.Ops) error {
			return usersvc.Run(ctx, nc, js, usersvc.Config{BcryptCost: cfg.BcryptCost, Version: cfg.Version, Snapshots: cfg.Snapshots, Log: cfg.Log, Partition: p, Ops: ops})
		}},
		{"tweet", func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, p contract.Partition, ops loop.Ops) error {
			return tweetsvc.Run(ctx, nc, js, tweetsvc.Config{Version: cfg.Version, Snapshots: cfg.Snapshots, Log: cfg.Log, Partition: p, Ops: ops})
		}},
		{"feed", func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, p contract.Partition, ops loop.Ops) error {
			return feedsvc.Run(ctx, nc, js, feedsvc.Config{Version: cfg.Version, Snapshots: cfg.Snapshots, Log: cfg.Log, Partition: p, Ops: ops})
		}},
	}
	running := 0
	for _, svc := range services {
		if !want[svc.name] {
			continue
		}
		for _, p := range partitions(cfg) {
			nc, js, err := connect(svc.name)
			if err != nil {
				return fail(err)
			}
			running++
			ops := s.addWorld(loop.WorldName(svc.name, p))
			go func() {
				err := svc.run(ctx, nc, js, p, ops)
				if err != nil && ctx.Err() == nil {
					s.errs <- fmt.Errorf("%s service partition %d: %w", svc.name, p.Index, err)
				}
			}()
		}
	}
	if want["gateway"] {
		nc, js, err := connect("gateway")
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
		if err := gw.RegisterMetrics(s.Metrics); err != nil {
			return fail(fmt.Errorf("gateway metrics: %w", err))
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fail(fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err))
		}
		s.HTTPAddr = ln.Addr().String()
		s.http = &http.Server{Handler: s.httpHandler(gw.Handler()), ReadHeaderTimeout: 10 * time.Second}
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

// partitions lists the partitions of each service this stack runs.
func partitions(cfg Config) []contract.Partition {
	n := max(cfg.Partitions, 1)
	if cfg.OnePartition {
		return []contract.Partition{{Index: cfg.Partition, Count: n}}
	}
	ps := make([]contract.Partition, n)
	for i := range ps {
		ps[i] = contract.Partition{Index: i, Count: n}
	}
	return ps
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

// ShutdownTimeout bounds Close.
const ShutdownTimeout = 10 * time.Second

// Close is Shutdown bounded by ShutdownTimeout.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	_ = s.Shutdown(ctx)
}

// Shutdown stops everything, gracefully, in this order: the HTTP server
// stops accepting; the gateway writes every queued push and closes each
// socket with 1001 (gateway.Shutdown); the services stop; every NATS
// connection is drained (its pending publishes flushed); the embedded NATS
// stops. When ctx ends first, what remains is closed at once and ctx's
// error returned. Calls after the first return nil at once.
func (s *Stack) Shutdown(ctx context.Context) error {
	select {
	case <-s.done:
		return nil
	default:
		close(s.done)
	}
	var errs []error
	if s.http != nil {
		// Hijacked sockets are not the HTTP server's: this stops the
		// listener and idle plain HTTP connections only.
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if s.gw != nil {
		if err := s.gw.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("gateway shutdown: %w", err))
		}
		s.gw.Close()
	}
	s.cancel()
	if err := drainAll(ctx, s.conns); err != nil {
		errs = append(errs, err)
	}
	if s.NATS != nil {
		s.NATS.Shutdown()
		s.NATS.WaitForShutdown()
	}
	return errors.Join(errs...)
}
