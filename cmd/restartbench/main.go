// Command restartbench measures what durability costs and what snapshots
// buy: the restart time of the feed service over a CHIRP stream of many
// input events, with its snapshot and after deleting it (full replay), and
// posts/s through the whole stack with sync-on-ack (fsync before every
// acknowledgement) off and on. It prints the numbers; it is a benchmark,
// not a test, and nothing passes or fails on them.
//
// Run it from the repository root:
//
//	go run ./cmd/restartbench [-events 1000000] [-write docs/durability.md]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"chirp/cmd/loadcheck"
	"chirp/natskit"

	"github.com/nats-io/nats.go/jetstream"
)

type options struct {
	events    int
	graph     string
	likes     float64
	seed      uint64
	reps      int
	replays   int
	snapWait  time.Duration
	posts     postsConfig
	skipPosts bool
	dir       string
	keep      bool
	write     string
	verbose   bool
}

func main() {
	var o options
	flag.IntVar(&o.events, "events", 1_000_000, "feed input events on the stream for the restart benchmark (0 skips it)")
	flag.StringVar(&o.graph, "graph", "graphs/twitter-follows-13k/edges.txt", "follower graph (edge list) the events are built on")
	flag.Float64Var(&o.likes, "likes", 0.25, "share of likes among the events after the follows (the rest are posts)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the event generator")
	flag.IntVar(&o.reps, "reps", 3, "restarts measured with the snapshot")
	flag.IntVar(&o.replays, "replays", 2, "restarts measured without the snapshot (full replay)")
	flag.DurationVar(&o.snapWait, "snapshot-wait", 40*time.Second, "after catch-up, how long to wait for a snapshot covering the whole stream (the loop takes one every 30 s)")
	flag.IntVar(&o.posts.Conns, "conns", 32, "concurrent WebSocket connections posting")
	flag.IntVar(&o.posts.Follows, "follows", 4, "each posting account follows this many others")
	flag.DurationVar(&o.posts.Warmup, "post-warmup", 2*time.Second, "posting before measuring")
	flag.DurationVar(&o.posts.Duration, "post-duration", 15*time.Second, "measured posting per sync setting")
	flag.BoolVar(&o.skipPosts, "skip-posts", false, "skip the posts/s benchmark")
	flag.StringVar(&o.dir, "dir", "", "folder for JetStream data (default: a new temporary folder; should be on the disk you deploy on, not tmpfs)")
	flag.BoolVar(&o.keep, "keep", false, "keep the data folder")
	flag.StringVar(&o.write, "write", "", "also write the results into this markdown file (e.g. docs/durability.md), between its restartbench markers")
	flag.BoolVar(&o.verbose, "v", false, "show the services' info logs")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		log.Error("restartbench failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	if o.posts.Conns < 1 || o.posts.Duration <= 0 || o.reps < 0 || o.replays < 0 || o.likes < 0 || o.likes > 1 {
		return fmt.Errorf("flags out of range: -conns >= 1, -post-duration > 0, -reps/-replays >= 0, 0 <= -likes <= 1")
	}
	dir, cleanup, err := dataDir(o.dir, o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	svcLevel := slog.LevelWarn
	if o.verbose {
		svcLevel = slog.LevelInfo
	}
	rl := newRecoveryLog(log.Handler(), svcLevel)
	fs := filesystemOf(dir)
	if fs == "tmpfs" {
		log.Warn("the data folder is on tmpfs: fsync costs nothing there, so sync on/off will look alike; pass -dir on a real disk", "dir", dir)
	}
	rep := &report{
		Started: time.Now(),
		Env: fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d), %s, data on %s", runtime.GOOS, runtime.GOARCH,
			runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), orUnknown(fs)),
		Args: strings.Join(os.Args[1:], " "),
	}
	if o.events > 0 {
		if err := restartBench(ctx, o, dir, rl, log, rep); err != nil {
			return err
		}
	}
	if !o.skipPosts {
		stackLog := slog.New(newRecoveryLog(log.Handler(), svcLevel))
		for _, sync := range []bool{false, true} {
			log.Info("posting through the stack", "sync_always", sync, "conns", o.posts.Conns, "duration", o.posts.Duration)
			res, err := benchPosts(ctx, dir, sync, o.posts, stackLog)
			if err != nil {
				return fmt.Errorf("posts with sync_always=%t: %w", sync, err)
			}
			log.Info("posts measured", "sync_always", sync, "posts_per_s", int(res.rate()), "p50", res.P50, "p99", res.P99, "errors", res.Errors)
			if sync {
				rep.SyncOn = res
			} else {
				rep.SyncOff = res
			}
		}
		rep.Posts, rep.PostsCfg = true, o.posts
	}
	rep.Total = time.Since(rep.Started)
	md := rep.markdown()
	fmt.Println(md)
	if o.write != "" {
		if err := writeResults(o.write, md); err != nil {
			return err
		}
		log.Info("results written", "file", o.write)
	}
	return nil
}

// restartBench fills the stream, lets the feed service consume it and
// measures its restarts with and without the snapshot.
func restartBench(ctx context.Context, o options, dir string, rl *recoveryLog, log *slog.Logger, rep *report) error {
	g, err := loadcheck.LoadGraph(o.graph, false, 0)
	if err != nil {
		return fmt.Errorf("%w (run from the repository root or pass -graph)", err)
	}
	rep.Graph, rep.Accounts, rep.Edges = filepath.Base(filepath.Dir(o.graph)), g.N, len(g.Edges)
	ns, err := natskit.StartServer(natskit.ServerConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "restart", "jetstream")})
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	url := ns.ClientURL()
	nc, err := natskit.Connect(url, "restartbench")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*publishWindow))
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := natskit.EnsureStreams(ctx, js, 1); err != nil {
		return err
	}

	log.Info("publishing feed inputs", "events", o.events, "graph", o.graph)
	pub, err := publishEvents(ctx, js, newGenerator(g, o.seed, o.likes), o.events, log)
	if err != nil {
		return err
	}
	rep.Publish = pub
	log.Info("published", "events", pub.Events, "took", pub.Took.Round(time.Millisecond), "stream_mib", pub.Bytes>>20)

	log.Info("feed service catching up")
	cu, err := catchUp(ctx, url, js, pub.LastSeq, o.snapWait, rl, log)
	if err != nil {
		return err
	}
	rep.CatchUp = cu
	log.Info("caught up", "took", cu.Took.Round(time.Millisecond), "snapshot_seq", cu.SnapshotSeq, "snapshot_mib", cu.SnapshotBytes>>20)
	rep.Restart = true

	if rep.WithSnap, err = measureRestarts(ctx, url, o.reps, rl, log, "with snapshot"); err != nil {
		return err
	}
	if err := deleteSnapshot(ctx, js); err != nil {
		return err
	}
	if rep.FullReplay, err = measureRestarts(ctx, url, o.replays, rl, log, "full replay"); err != nil {
		return err
	}
	return nil
}

// dataDir returns the folder for JetStream data and how to clean it up.
func dataDir(dir string, keep bool) (string, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("data folder: %w", err)
		}
	}
	d, err := os.MkdirTemp(dir, "restartbench-")
	if err != nil {
		return "", nil, fmt.Errorf("data folder: %w", err)
	}
	if keep {
		return d, func() {}, nil
	}
	return d, func() { _ = os.RemoveAll(d) }, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown filesystem"
	}
	return s
}
