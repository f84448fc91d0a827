package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"chirp/cmd/bench"
)

// benchMain runs `chirp bench [flags]`: Chirp's push path beside the raw
// NATS ceiling and Centrifugo, printed as Markdown and optionally written
// to a file. It returns 0 when the run finished, 1 when it could not run,
// 2 on bad flags.
func benchMain(args []string) int {
	cfg := bench.DefaultConfig()
	self, err := os.Executable()
	if err == nil {
		cfg.ChirpBin = self
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: chirp bench [flags]\n\nStarts a Chirp stack as processes on free loopback ports, loads a follower graph,\nconnects N WebSocket clients and measures post-to-push deliveries/s and latency;\nthen the same pattern on raw NATS and on Centrifugo. Prints a Markdown report.\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Graph, "graph", cfg.Graph, "follower graph edge list")
	fs.IntVar(&cfg.MaxAccounts, "max-accounts", cfg.MaxAccounts, "use only accounts 0..N-1 of the graph (0 = all)")
	fs.IntVar(&cfg.Sockets, "sockets", cfg.Sockets, "client WebSocket sockets (15000 for the socket-memory target)")
	fs.IntVar(&cfg.Authors, "authors", cfg.Authors, "accounts that post: the most-followed online ones")
	fs.IntVar(&cfg.TextBytes, "text-bytes", cfg.TextBytes, "tweet text size in bytes (20-280)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each phase")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "posts/s of the fixed-rate phase (0: half of Chirp's closed-loop posts/s)")
	fs.IntVar(&cfg.Window, "window", cfg.Window, "posts in flight in the closed-loop phase")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "max wait for deliveries after a phase's offering stops")
	fs.IntVar(&cfg.MaxPosts, "max-posts", cfg.MaxPosts, "bound on posts per phase")
	systems := fs.String("systems", strings.Join(cfg.Systems, ","), "systems to measure, comma-separated: chirp, nats, centrifugo")
	fs.StringVar(&cfg.Sync, "sync", cfg.Sync, "Chirp's nats-server JetStream sync_interval: a duration such as 2m, or always (Chirp's own default: fsync every write)")
	fs.StringVar(&cfg.ChirpURL, "url", "", "measure the Chirp stack at this ws:// URL instead of starting one (its processes are not measured)")
	fs.StringVar(&cfg.NATSURL, "nats-url", "", "measure the raw NATS ceiling on this server instead of starting one")
	fs.StringVar(&cfg.ChirpBin, "chirp-bin", cfg.ChirpBin, "chirp binary the stack runs")
	fs.StringVar(&cfg.NATSServerBin, "nats-server", cfg.NATSServerBin, "nats-server binary")
	fs.StringVar(&cfg.CentrifugoBin, "centrifugo", cfg.CentrifugoBin, "Centrifugo binary (v6.9.1); missing: that column is skipped")
	fs.StringVar(&cfg.WorkDir, "work", "", "keep the processes' logs and data in this folder (default: a temporary one, removed)")
	write := fs.String("write", "", "also write the report to this file (BENCHMARKS.md), replacing it")
	appendRun := fs.Bool("append", false, "with -write: add this run to the end of the file instead of replacing it")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "chirp bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *appendRun && *write == "" {
		fmt.Fprintln(os.Stderr, "chirp bench: -append needs -write")
		return 2
	}
	cfg.Systems = nil
	for _, s := range strings.Split(*systems, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Systems = append(cfg.Systems, s)
		}
	}
	cfg.Command = strings.Join(append([]string{"chirp bench"}, args...), " ")
	if !*quiet {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chirp bench: %v\n", err)
		if _, bad := errors.AsType[*bench.ConfigError](err); bad {
			return 2
		}
		return 1
	}
	if err := rep.WriteMarkdown(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "chirp bench: %v\n", err)
		return 1
	}
	if *write != "" {
		if err := writeReport(*write, rep, *appendRun); err != nil {
			fmt.Fprintf(os.Stderr, "chirp bench: write %s: %v\n", *write, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "chirp bench: wrote %s\n", *write)
	}
	return 0
}

// writeReport writes rep to path: the title and the run, or with add the
// run after what the file holds (the title first if the file is new).
func writeReport(path string, rep *bench.Report, add bool) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if add {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if st.Size() == 0 {
		if _, err := f.WriteString(bench.MarkdownTitle); err != nil {
			f.Close()
			return err
		}
	}
	if err := rep.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
