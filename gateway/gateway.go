// Package gateway holds Chirp's WebSocket connections: it turns client
// frames into requests on NATS subjects and relays each account's pushes to
// that account's sockets. It keeps connections, never business state.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"chirp/contract"
	"chirp/gateway/web"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a gateway.
type Config struct {
	// ID names this gateway in presence events; stable across restarts of
	// the same instance. A subject token: [A-Za-z0-9_-].
	ID string
	// TokenSecret signs and checks tokens; every gateway of a deployment
	// shares it. Empty means a random one (tokens die with the process).
	TokenSecret []byte
	TokenTTL    time.Duration
	// RequestTimeout bounds the wait for a service reply (unavailable after).
	RequestTimeout time.Duration
	// AuthTimeout bounds signup and login, which hash passwords.
	AuthTimeout  time.Duration
	SendQueue    int
	PingInterval time.Duration
	PongWait     time.Duration
	WriteTimeout time.Duration
	// Limits bound each client (limits.go); the zero value has none.
	Limits Limits
	Log    *slog.Logger
}

func (c *Config) defaults() {
	if c.ID == "" {
		c.ID = "gw"
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = 7 * 24 * time.Hour
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.AuthTimeout == 0 {
		c.AuthTimeout = 10 * time.Second
	}
	if c.SendQueue == 0 {
		c.SendQueue = 1024
	}
	if c.PingInterval == 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PongWait == 0 {
		c.PongWait = 60 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Gateway serves WebSocket clients.
type Gateway struct {
	cfg      Config
	nc       *nats.Conn
	js       jetstream.JetStream
	hub      *hub
	tokens   tokens
	upgrader websocket.Upgrader
	stop     chan struct{}
	nextID   chan uint64
	metrics  *metrics
	limits   *limiter
	life     lifecycle
	// started is set by Start, before the gateway serves any request.
	started bool
}

// New prepares a gateway on an open NATS connection.
func New(nc *nats.Conn, js jetstream.JetStream, cfg Config) (*Gateway, error) {
	cfg.defaults()
	if len(cfg.TokenSecret) == 0 {
		cfg.TokenSecret = make([]byte, 32)
		if _, err := rand.Read(cfg.TokenSecret); err != nil {
			return nil, fmt.Errorf("token secret: %w", err)
		}
	}
	g := &Gateway{
		cfg: cfg, nc: nc, js: js,
		hub:    newHub(nc, js, cfg.ID, cfg.Log),
		tokens: tokens{secret: cfg.TokenSecret, ttl: cfg.TokenTTL},
		upgrader: websocket.Upgrader{
			// Requests are small; a larger frame is read through the
			// buffer in pieces. What a socket holds while idle is
			// mostly this buffer (see docs/perf.md).
			ReadBufferSize:  512,
			WriteBufferSize: 1024,
			// A socket holds a write buffer only while it writes.
			WriteBufferPool: &sync.Pool{},
			CheckOrigin:     originCheck(cfg.Limits.AllowedOrigins),
		},
		stop:   make(chan struct{}),
		nextID: make(chan uint64),
		limits: newLimiter(cfg.Limits),
	}
	g.metrics = newMetrics(cfg.ID)
	return g, nil
}

// Start announces the gateway (clearing presence a previous run of the same
// ID left) and starts the hub.
func (g *Gateway) Start(ctx context.Context) error {
	if err := g.hub.start(); err != nil {
		return fmt.Errorf("subscribe reply inbox: %w", err)
	}
	data, _ := json.Marshal(contract.GatewayStarted{Gateway: g.cfg.ID})
	if _, err := g.js.Publish(ctx, contract.Subject(contract.EvtGatewayStarted, g.cfg.ID), data); err != nil {
		return fmt.Errorf("announce gateway: %w", err)
	}
	go g.hub.run(g.stop)
	g.started = true
	go func() {
		for id := uint64(1); ; id++ {
			select {
			case g.nextID <- id:
			case <-g.stop:
				return
			}
		}
	}()
	return nil
}

// Close stops the hub; sockets close as their reads fail.
func (g *Gateway) Close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
}

// Handler serves /ws, /healthz and the web client at /.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.HandleFunc("/ws", g.serveWS)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if g.nc.Status() != nats.CONNECTED {
			http.Error(w, "nats not connected", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// serveWS upgrades the request and returns, leaving the socket to its
// reader goroutine: net/http's buffers and request of the upgrade are then
// garbage, and the reader starts on a small stack.
func (g *Gateway) serveWS(w http.ResponseWriter, r *http.Request) {
	p, release, ok := g.admit(w, r)
	if !ok {
		return // admit has answered
	}
	conn, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		release()
		return // the upgrader has answered
	}
	var id uint64
	select {
	case id = <-g.nextID:
	case <-g.stop:
		_ = conn.Close()
		release()
		return
	}
	c := &client{
		id: id, g: g, conn: conn, peer: p,
		done:   make(chan struct{}),
		remote: r.RemoteAddr,
	}
	untrack := g.track(c)
	g.hub.register(c)
	c.startPings()
	go func() {
		defer release()
		defer untrack()
		c.readLoop()
		c.stopTimers()
		g.hub.unregister(c)
	}()
}
