package stack

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"chirp/services/loop"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// What a stack shows operators, on the gateway's HTTP address and on a
// service process's CHIRP_HEALTH_ADDR:
//
//	GET /healthz  200 while the process runs (liveness)
//	GET /readyz   200 once every NATS connection is up, every world has
//	              caught up with the stream's tail it found at start and the
//	              gateway (if any) takes sockets; 503 with the reasons otherwise
//	GET /metrics  Prometheus metrics of every component of the process

// world is one service partition the stack runs, for readiness.
type world struct {
	name     string
	caughtUp chan struct{} // closed by the loop once replay and backlog are done
}

// newRegistry is the registry of one stack: the Go runtime's and the
// process's collectors, to which the loops and the gateway add theirs.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// addWorld records a world for readiness and returns the loop options that
// export its metrics and report its catching up.
func (s *Stack) addWorld(name string) loop.Ops {
	w := world{name: name, caughtUp: make(chan struct{})}
	s.worlds = append(s.worlds, w)
	return loop.Ops{Metrics: s.Metrics, CaughtUp: func() { close(w.caughtUp) }}
}

// Ready returns nil when the stack should get traffic, else every reason it
// should not.
func (s *Stack) Ready() error {
	var errs []error
	for _, nc := range s.conns {
		if st := nc.Status(); st != nats.CONNECTED {
			errs = append(errs, fmt.Errorf("nats connection %s: %s", nc.Opts.Name, st))
		}
	}
	for _, w := range s.worlds {
		select {
		case <-w.caughtUp:
		default:
			errs = append(errs, fmt.Errorf("%s: catching up with the stream", w.name))
		}
	}
	if s.gw != nil {
		if err := s.gw.Ready(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// OpsHandler serves /healthz, /readyz and /metrics.
func (s *Stack) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}}))
	return mux
}

func (s *Stack) serveReady(w http.ResponseWriter, r *http.Request) {
	if err := s.Ready(); err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready:\n" + err.Error() + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// httpHandler is the gateway's HTTP handler with the stack's /readyz and
// /metrics beside it (the gateway's own /healthz checks its NATS link).
func (s *Stack) httpHandler(gw http.Handler) http.Handler {
	ops := s.OpsHandler()
	mux := http.NewServeMux()
	mux.Handle("/", gw)
	mux.Handle("GET /readyz", ops)
	mux.Handle("GET /metrics", ops)
	return mux
}

// slogPrinter logs metric collection errors.
type slogPrinter struct{ s *Stack }

func (p slogPrinter) Println(v ...any) {
	p.s.log.Warn("metrics", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}
