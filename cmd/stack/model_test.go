package stack_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"chirp/cmd/loadcheck"
)

// The feed model on a real follower graph: the load-and-check command
// drives the stack over WebSocket and compares every feed, and every push
// to every connected account, with its model.

const reedGraph = "../../graphs/socfb-Reed98/edges.txt"

func TestFeedsMatchTheModelOnSocfbReed98(t *testing.T) {
	url := startStack(t, nil)
	cfg := loadcheck.DefaultConfig()
	cfg.URL = url
	cfg.GraphPath = reedGraph // undirected by name: every edge is a mutual follow
	cfg.MaxAccounts = reedAccounts
	cfg.K = 2
	cfg.Likes = 1
	cfg.Concurrency = 8
	cfg.Online = reedAccounts // every account: push counts are then exact sums
	cfg.Timeout = 20 * time.Second
	cfg.Settle = 20 * time.Second

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := loadcheck.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	t.Log("\n" + text.String())

	g, err := loadcheck.LoadGraph(cfg.GraphPath, true, cfg.MaxAccounts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("load-and-check failed: %s", rep.Verdict)
	}
	if n := len(rep.FeedMismatches) + len(rep.PushMismatches) + len(rep.ReplyMismatches); n != 0 {
		t.Errorf("mismatches: feeds %v, pushes %v, replies %v", rep.FeedMismatches, rep.PushMismatches, rep.ReplyMismatches)
	}
	if rep.Accounts != g.N || rep.Edges != len(g.Edges) || rep.Posts != cfg.K*g.N ||
		rep.Online != g.N || rep.FeedsChecked != g.N || !rep.Settled {
		t.Errorf("counts: %d accounts, %d follows, %d posts, %d online, %d feeds checked, settled %t; graph has %d accounts, %d follows",
			rep.Accounts, rep.Edges, rep.Posts, rep.Online, rep.FeedsChecked, rep.Settled, g.N, len(g.Edges))
	}
	// Every follow is made before any post, and every account is online:
	// each tweet is pushed once to its author and once to each follower.
	if want := cfg.K * (g.N + len(g.Edges)); rep.PushesTweet != want {
		t.Errorf("tweet pushes = %d, want K*(accounts+follows) = %d", rep.PushesTweet, want)
	}
	// Each account likes one tweet of its feed, so every like is new and
	// reaches at least the tweet's author.
	if rep.Likes != g.N || rep.PushesLikes < rep.Likes || rep.PushesOther != 0 {
		t.Errorf("%d likes, %d likes pushes, %d other pushes", rep.Likes, rep.PushesLikes, rep.PushesOther)
	}
}
