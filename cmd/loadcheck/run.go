// Package loadcheck drives a running Chirp stack over its WebSocket
// protocol with a real follower graph and checks every feed, and every push
// to a sample of connected accounts, against a model of what was accepted.
package loadcheck

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Config controls one run. The chirp load flags mirror it.
type Config struct {
	URL         string        // WebSocket endpoint
	GraphPath   string        // edge list "a b" = b follows a
	Undirected  bool          // each line is a mutual follow; forced on when GraphPath contains "socfb"
	K           int           // posts per account
	Likes       int           // likes per account
	Concurrency int           // pooled connections for signup, follow, post, like, feed
	Online      int           // sampled accounts kept connected throughout, recording pushes
	Seed        uint64        // drives the online sample and the like choices
	Prefix      string        // handle prefix; empty picks a random run tag
	Password    string        // password of every account
	Timeout     time.Duration // per request
	Settle      time.Duration // max wait for pushes, and for feeds to converge
	MaxAccounts int           // 0 = all; else accounts 0..MaxAccounts-1 and the edges among them
	Log         *slog.Logger  // progress; nil discards
}

// DefaultConfig returns the defaults the flags document.
func DefaultConfig() Config {
	return Config{
		URL:         "ws://127.0.0.1:8080/ws",
		GraphPath:   "graphs/twitter-follows-13k/edges.txt",
		K:           2,
		Likes:       1,
		Concurrency: 64,
		Online:      200,
		Seed:        1,
		Password:    "password123",
		Timeout:     10 * time.Second,
		Settle:      30 * time.Second,
	}
}

// ConfigError reports unusable settings or an unreadable graph; the command
// exits 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, args...)}
}

const maxHandleLen = 30

func (c *Config) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return configErrorf("-url %q: want ws://host:port/path or wss://...", c.URL)
	}
	switch {
	case c.K < 0:
		return configErrorf("-k must be >= 0, got %d", c.K)
	case c.Likes < 0:
		return configErrorf("-likes must be >= 0, got %d", c.Likes)
	case c.Concurrency < 1:
		return configErrorf("-c must be >= 1, got %d", c.Concurrency)
	case c.Online < 0:
		return configErrorf("-online must be >= 0, got %d", c.Online)
	case c.Timeout <= 0:
		return configErrorf("-timeout must be > 0, got %v", c.Timeout)
	case c.Settle < 0:
		return configErrorf("-settle must be >= 0, got %v", c.Settle)
	case c.MaxAccounts < 0:
		return configErrorf("-max-accounts must be >= 0, got %d", c.MaxAccounts)
	case len(c.Password) < 8 || len(c.Password) > 72:
		return configErrorf("-password must be 8-72 bytes, got %d", len(c.Password))
	}
	if c.Prefix != "" && !validHandle(c.Prefix) {
		return configErrorf("-prefix %q: want 1-%d of [A-Za-z0-9_]", c.Prefix, maxHandleLen)
	}
	return nil
}

func validHandle(s string) bool {
	if len(s) == 0 || len(s) > maxHandleLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// runTag returns a short random lowercase tag so runs never share handles.
func runTag() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "r" + string(b)
}

type runner struct {
	cfg    Config
	log    *slog.Logger
	graph  *Graph
	prefix string
	model  *Model
	tokens []string // per account; "" when signup failed

	online []*recorder
	expect []PushExpect // per online recorder, set by the settle phase

	errors, errorsByOp, protocol, replies *Tally
	feedMismatches, pushMismatches        *Tally
	rateLimitRetries, skipped             atomic.Int64
	dialFails                             atomic.Int64 // consecutive failed dials
	abort                                 context.CancelCauseFunc

	report *Report
}

// Run performs one load-and-check run. It returns an error (a *ConfigError
// for bad settings or an unreadable graph) only when it could not start;
// otherwise the Report says whether the stack passed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	ctx, r, err := newRunner(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.abort(nil)
	defer func() {
		for _, rec := range r.online {
			rec.conn.Close()
		}
	}()
	r.log.Info("run", "prefix", r.prefix, "seed", r.cfg.Seed, "accounts", r.graph.N, "edges", len(r.graph.Edges), "url", r.cfg.URL)
	r.run(ctx)
	r.finish(ctx)
	return r.report, nil
}

// newRunner checks cfg, reads the graph and checks that the stack answers.
// The returned context is cancelled by r.abort.
func newRunner(ctx context.Context, cfg Config) (context.Context, *runner, error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	if strings.Contains(cfg.GraphPath, "socfb") {
		cfg.Undirected = true
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g, err := LoadGraph(cfg.GraphPath, cfg.Undirected, cfg.MaxAccounts)
	if err != nil {
		return nil, nil, &ConfigError{Err: err}
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = runTag()
	}
	if n := len(prefix) + 1 + len(strconv.Itoa(g.N-1)); n > maxHandleLen {
		return nil, nil, configErrorf("-prefix %q makes handles of %d chars, over %d", prefix, n, maxHandleLen)
	}
	handles := make([]string, g.N)
	for a := range handles {
		handles[a] = prefix + "_" + strconv.Itoa(a)
	}

	// Fail fast, with one clear message, when nothing is listening.
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	c, err := Dial(dctx, cfg.URL)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach the stack: %w", err)
	}
	c.Close()

	ctx, abort := context.WithCancelCause(ctx)
	r := &runner{
		cfg: cfg, log: log, graph: g, prefix: prefix, abort: abort,
		model:          NewModel(handles),
		tokens:         make([]string, g.N),
		errors:         NewTally(10),
		errorsByOp:     NewTally(0),
		protocol:       NewTally(10),
		replies:        NewTally(10),
		feedMismatches: NewTally(10),
		pushMismatches: NewTally(10),
		report: &Report{
			URL: cfg.URL, Graph: cfg.GraphPath, Undirected: cfg.Undirected, Seed: cfg.Seed, Prefix: prefix,
			K: cfg.K, LikesPerAccount: cfg.Likes, Concurrency: cfg.Concurrency,
			GraphAccounts: g.N, GraphEdges: len(g.Edges),
		},
	}
	return ctx, r, nil
}

func (r *runner) run(ctx context.Context) {
	phases := []struct {
		name string
		fn   func(context.Context)
	}{
		{"signup", r.phaseSignup},
		{"online", r.phaseOnline},
		{"follow", r.phaseFollow},
		{"post", r.phasePost},
		{"like", r.phaseLike},
		{"settle", r.phaseSettle},
		{"feeds", r.phaseFeeds},
		{"pushcheck", func(context.Context) { r.phasePushCheck() }},
	}
	for _, p := range phases {
		if ctx.Err() != nil {
			r.report.Aborted = fmt.Sprintf("%v (before phase %s)", context.Cause(ctx), p.name)
			break
		}
		r.log.Info("phase start", "phase", p.name)
		start := time.Now()
		p.fn(ctx)
		secs := time.Since(start).Seconds()
		r.report.Phases = append(r.report.Phases, PhaseTime{Name: p.name, Seconds: secs})
		r.log.Info("phase done", "phase", p.name, "seconds", fmt.Sprintf("%.2f", secs), "errors", r.errors.Total())
		if p.name == "post" && secs > 0 {
			r.report.PostsPerSec = float64(r.report.Posts) / secs
		}
		if ctx.Err() != nil {
			r.report.Aborted = fmt.Sprintf("%v (during phase %s)", context.Cause(ctx), p.name)
			break
		}
		if p.name == "signup" && r.report.Accounts == 0 {
			r.report.Aborted = "no account could sign up"
			break
		}
	}
	if r.report.Aborted != "" && r.expect == nil {
		r.phasePushCheck() // reports the online sockets' state only
	}
}

func (r *runner) finish(ctx context.Context) {
	rep := r.report
	rep.Errors, rep.ErrorsByOp, rep.ErrorExamples = r.errors.Counts(), r.errorsByOp.Counts(), r.errors.Examples()
	rep.ReplyMismatches, rep.ReplyExamples = r.replies.Counts(), r.replies.Examples()
	rep.ProtocolErrors, rep.ProtocolExamples = r.protocol.Total(), r.protocol.Examples()
	rep.FeedMismatches, rep.FeedExamples = r.feedMismatches.Counts(), r.feedMismatches.Examples()
	rep.PushMismatches, rep.PushExamples = r.pushMismatches.Counts(), r.pushMismatches.Examples()
	rep.RateLimitRetries = int(r.rateLimitRetries.Load())
	rep.Skipped = int(r.skipped.Load())
	if rep.Aborted == "" && ctx.Err() != nil {
		rep.Aborted = context.Cause(ctx).Error()
	}
	rep.judge()
}
