// Package bench measures Chirp's push path end to end and sets it beside
// the raw NATS ceiling and Centrifugo, in one run with the same clients,
// the same message size and the same deliveries per post: it loads a real
// follower graph into the stack, connects N WebSocket clients, offers
// posts in a closed loop (throughput) and then open loop at a fixed rate
// (latency from each post's due time to each push's arrival), and reports
// deliveries per second, latency percentiles, errors by code, and the CPU
// and memory of every process.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"chirp/cmd/loadcheck"
)

// Systems the bench can measure.
const (
	SysChirp      = "chirp"
	SysNATS       = "nats"
	SysCentrifugo = "centrifugo"
)

// Phases of every system.
const (
	PhaseMax   = "max"   // closed loop: throughput
	PhaseFixed = "fixed" // open loop at the fixed rate: latency
)

// Config is one bench run. The chirp bench flags mirror it.
type Config struct {
	Graph       string // edge list, graphs/...
	MaxAccounts int    // 0: the whole graph
	Sockets     int    // client sockets (and subscriptions / channels)
	Authors     int    // accounts that post, the most-followed online ones
	TextBytes   int    // tweet text size
	Duration    time.Duration
	// Rate is the fixed-rate phase's posts/s; 0 takes half of Chirp's
	// closed-loop posts/s (or 100 when Chirp is not measured).
	Rate     float64
	Window   int           // closed loop: posts in flight
	Settle   time.Duration // max wait for deliveries after offering stops
	MaxPosts int           // bound on posts per phase
	Systems  []string
	Sync     string // nats-server sync_interval for Chirp's JetStream

	ChirpURL string // target a running Chirp instead of starting one
	NATSURL  string // target a NATS server for the ceiling instead of starting one

	ChirpBin, NATSServerBin, CentrifugoBin string
	CentrifugoVersion                      string // for the report

	WorkDir string // logs and data of the started processes
	Command string // the command line, for the report
	Log     *slog.Logger
}

// DefaultConfig is what `make bench` runs.
func DefaultConfig() Config {
	return Config{
		Graph: "graphs/twitter-follows-4k/edges.txt", Sockets: 2000, Authors: 50, TextBytes: 64,
		Duration: 10 * time.Second, Window: 32, Settle: 15 * time.Second, MaxPosts: 200_000,
		Systems: []string{SysChirp, SysNATS, SysCentrifugo}, Sync: "2m",
		NATSServerBin: "bin/nats-server", CentrifugoBin: "bin/centrifugo", CentrifugoVersion: "v6.9.1",
	}
}

// ConfigError is a run that cannot start for its settings or its graph;
// the command exits 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func (c *Config) validate() error {
	var bad []string
	if c.Sockets < 1 {
		bad = append(bad, fmt.Sprintf("sockets %d: want at least 1", c.Sockets))
	}
	if c.Authors < 1 {
		bad = append(bad, fmt.Sprintf("authors %d: want at least 1", c.Authors))
	}
	if c.TextBytes < 20 || c.TextBytes > 280 {
		bad = append(bad, fmt.Sprintf("text bytes %d: want 20-280", c.TextBytes))
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		bad = append(bad, fmt.Sprintf("duration %v: want more than 0, at most 1h", c.Duration))
	}
	if c.Rate < 0 || c.Window < 1 || c.MaxPosts < 1 || c.Settle < 0 {
		bad = append(bad, "rate, settle must be >= 0; window, max posts >= 1")
	}
	for _, s := range c.Systems {
		if s != SysChirp && s != SysNATS && s != SysCentrifugo {
			bad = append(bad, fmt.Sprintf("system %q: want chirp, nats or centrifugo", s))
		}
	}
	if len(bad) > 0 {
		return &ConfigError{Err: fmt.Errorf("bad settings: %s", strings.Join(bad, "; "))}
	}
	return nil
}

// Run measures every system of cfg in turn and returns the report. It
// fails only when the run cannot start (bad settings, no graph, Chirp not
// reachable); a system that fails later is reported as skipped with why.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	if need := uint64(cfg.Sockets) + 200; limit < need {
		return nil, fmt.Errorf("open-file limit %d is below the %d sockets plus 200 this run needs", limit, cfg.Sockets)
	}
	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "chirp-bench-")
		if err != nil {
			return nil, fmt.Errorf("work folder: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.WorkDir = dir
	}
	rep := newReport(cfg)
	g, err := loadcheck.LoadGraph(cfg.Graph, strings.Contains(cfg.Graph, "socfb"), cfg.MaxAccounts)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	rep.Accounts, rep.Edges = g.N, len(g.Edges)
	work, err := NewWorkload(g, cfg.Sockets, cfg.Authors)
	if err != nil {
		return nil, err
	}
	rep.Fanout = work.Fanout()
	handles := make([]string, g.N) // for payloads of the other systems when Chirp is not run
	for a := range handles {
		handles[a] = fmt.Sprintf("rbench0_%d", a)
	}

	rate := cfg.Rate
	if slices.Contains(cfg.Systems, SysChirp) {
		res, prep := runChirp(ctx, cfg, &rate)
		rep.Systems = append(rep.Systems, res)
		if prep != nil {
			handles = prep.Handles
			rep.Follows = prep.Follows
		}
	}
	if rate == 0 {
		rate = 100
	}
	rep.Rate = rate
	if slices.Contains(cfg.Systems, SysNATS) {
		rep.Systems = append(rep.Systems, runNATS(ctx, cfg, work, handles, rate))
	}
	if slices.Contains(cfg.Systems, SysCentrifugo) {
		rep.Systems = append(rep.Systems, runCentrifugo(ctx, cfg, work, handles, rate))
	}
	rep.Finished = time.Now().UTC()
	return rep, nil
}

// phases runs the closed-loop phase then the fixed-rate phase; rate 0
// takes half the closed loop's posts/s. before runs ahead of each phase.
func phases(ctx context.Context, cfg Config, system string, tags *tagTable, tag byte, rate *float64, procs []Proc,
	before func(), send func(ph *phase, closed bool) sendFunc) []PhaseResult {
	var out []PhaseResult
	for i, name := range []string{PhaseMax, PhaseFixed} {
		o := Offer{Duration: cfg.Duration, MaxPosts: cfg.MaxPosts, Window: cfg.Window, MaxInFlight: 4096}
		if name == PhaseFixed {
			if *rate == 0 && len(out) > 0 {
				*rate = max(1, out[0].PostsPerSec/2)
			}
			if *rate == 0 {
				*rate = 100
			}
			o.Rate = *rate
			o.MaxPosts = min(cfg.MaxPosts, int(o.Rate*cfg.Duration.Seconds())+1)
		}
		ph := newPhase(tag+byte(i), o.MaxPosts)
		tags.set(ph)
		if before != nil {
			before()
		}
		cfg.Log.Info("phase", "system", system, "phase", name, "rate", o.Rate, "window", o.Window, "duration", o.Duration)
		r := measure(ctx, system, name, ph, o, cfg.Settle, procs, send(ph, o.Rate == 0))
		cfg.Log.Info("phase done", "system", system, "phase", name, "posts/s", int(r.PostsPerSec),
			"deliveries/s", int(r.DeliveriesSec), "delivered", r.Delivered, "expected", r.Expected, "p99", r.P99, "errors", r.Errors)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

// Each runX stops its system (which records the process totals into
// res) before returning res.

func runChirp(ctx context.Context, cfg Config, rate *float64) (res SystemResult, prep *loadcheck.Prepared) {
	res = SystemResult{Name: SysChirp, SocketErrors: map[string]int{}}
	s, err := startChirp(ctx, cfg, &res)
	if err != nil {
		res.Skipped = err.Error()
		return res, nil
	}
	defer s.stop()
	if err := s.prepare(ctx); err != nil {
		res.Skipped = err.Error()
		return res, s.prep
	}
	res.Phases = phases(ctx, cfg, SysChirp, &s.tags, 'a', rate, s.procs, nil,
		func(ph *phase, _ bool) sendFunc { return s.send(ph) })
	if n := s.closedSockets(); n > 0 {
		res.SocketErrors["socket closed during the run"] += n
	}
	return res, s.prep
}

func runNATS(ctx context.Context, cfg Config, work *Workload, handles []string, rate float64) (res SystemResult) {
	res = SystemResult{Name: SysNATS, SocketErrors: map[string]int{}}
	s, err := startNATS(ctx, cfg, work, handles, &res)
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	defer s.stop()
	res.Phases = phases(ctx, cfg, SysNATS, &s.tags, 'c', &rate, s.procs, s.reset, s.send)
	return res
}

func runCentrifugo(ctx context.Context, cfg Config, work *Workload, handles []string, rate float64) (res SystemResult) {
	res = SystemResult{Name: SysCentrifugo, SocketErrors: map[string]int{}}
	s, err := startCentrifugo(ctx, cfg, work, handles, &res)
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	defer s.stop()
	res.Phases = phases(ctx, cfg, SysCentrifugo, &s.tags, 'e', &rate, s.procs, nil,
		func(ph *phase, _ bool) sendFunc { return s.send(ph) })
	return res
}

// machine describes the computer: cores and CPU model.
func machine() (cores int, model string) {
	cores = runtime.NumCPU()
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return cores, "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return cores, strings.TrimSpace(v)
		}
	}
	return cores, "unknown CPU"
}
