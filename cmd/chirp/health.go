package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// healthTimeout bounds one `chirp health` probe, connection and body
// included.
const healthTimeout = 2 * time.Second

// healthMain runs `chirp health <url>`: one GET, exit 0 on a 2xx answer
// and 1 otherwise, with the reason on stderr. Container images built FROM
// scratch have no shell or curl, so their health checks run this.
func healthMain(args []string) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(os.Stderr, "usage: chirp health <url>\n\nGETs the URL with a 2s timeout; exits 0 on a 2xx status, 1 otherwise.")
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	if err := probe(context.Background(), args[0]); err != nil {
		fmt.Fprintln(os.Stderr, "chirp health:", err)
		return 1
	}
	return 0
}

// probe GETs url and returns nil only on a 2xx status.
func probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("get %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// startHealth serves ops (GET /healthz, /readyz, /metrics: the stack's
// OpsHandler) on addr (CHIRP_HEALTH_ADDR, e.g. ":8081") so that a
// component without an HTTP port of its own can be health-checked and
// scraped. Call it once the component's services answer on NATS: the
// listener exists only from then on (compose's health checks rely on it);
// /readyz then says when its worlds have caught up. An empty addr serves
// nothing. The returned func stops the listener.
func startHealth(addr string, ops http.Handler, log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health listener %s: %w", addr, err)
	}
	srv := &http.Server{Handler: ops, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health listener stopped", "addr", addr, "err", err)
		}
	}()
	log.Info("health endpoint up", "url", "http://"+ln.Addr().String()+"/healthz", "ready", "/readyz", "metrics", "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
