package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"chirp/cmd/loadcheck"
)

// loadMain runs `chirp load [flags]`: load a running stack over WebSocket
// with a follower graph and check every feed against a model. It returns
// the exit code: 0 pass, 1 failure, 2 bad flags or unreadable graph.
func loadMain(args []string) int {
	var stdout, stderr io.Writer = os.Stdout, os.Stderr
	cfg := loadcheck.DefaultConfig()
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: chirp load [flags]\n\nSigns up every account of a follower graph, follows, posts, likes and\nthen checks every feed and the pushes of sampled online accounts.\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", cfg.URL, "WebSocket endpoint of the stack")
	fs.StringVar(&cfg.GraphPath, "graph", cfg.GraphPath, "edge list: each line `a b` means b follows a")
	fs.BoolVar(&cfg.Undirected, "undirected", cfg.Undirected, "treat each line as a mutual follow (on automatically when the path contains \"socfb\")")
	fs.IntVar(&cfg.K, "k", cfg.K, "posts per account")
	fs.IntVar(&cfg.Likes, "likes", cfg.Likes, "likes per account, each on a random tweet it can see")
	fs.IntVar(&cfg.Concurrency, "c", cfg.Concurrency, "concurrent connections")
	fs.IntVar(&cfg.Online, "online", cfg.Online, "sampled accounts kept connected throughout, recording pushes")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (online sample, like choices)")
	fs.StringVar(&cfg.Prefix, "prefix", "", "handle prefix, handles are <prefix>_<id> (default: a random run tag)")
	fs.StringVar(&cfg.Password, "password", cfg.Password, "password of every account (8-72 bytes)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "timeout per request")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "max wait for pushes to arrive and feeds to converge")
	fs.IntVar(&cfg.MaxAccounts, "max-accounts", 0, "use only accounts 0..N-1 and the edges among them (0 = all)")
	asJSON := fs.Bool("json", false, "also print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chirp load: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if !*quiet {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := loadcheck.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "chirp load: %v\n", err)
		if _, bad := errors.AsType[*loadcheck.ConfigError](err); bad {
			return 2
		}
		return 1
	}
	if err := report.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "chirp load: write report: %v\n", err)
		return 1
	}
	if *asJSON {
		if err := report.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "chirp load: write report: %v\n", err)
			return 1
		}
	}
	return report.ExitCode()
}
