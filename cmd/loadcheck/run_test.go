package loadcheck

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func testConfig(url string) Config {
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.GraphPath = "../../graphs/socfb-Reed98/edges.txt" // undirected by name
	cfg.MaxAccounts = 80
	cfg.K = 3
	cfg.Likes = 2
	cfg.Concurrency = 8
	cfg.Online = 15
	cfg.Timeout = 5 * time.Second
	cfg.Settle = 5 * time.Second
	return cfg
}

func TestRunPassesAgainstCorrectServer(t *testing.T) {
	cfg := testConfig(startFakeServer(t, ""))
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + text.String())
	if !rep.OK || rep.ExitCode() != 0 {
		t.Fatalf("run failed against a correct server:\n%s", text.String())
	}
	g, _ := LoadGraph(cfg.GraphPath, true, cfg.MaxAccounts)
	if rep.Accounts != 80 || rep.Edges != len(g.Edges) || rep.Posts != 240 || rep.Likes != 160 ||
		rep.Online != 15 || rep.FeedsChecked != 80 || !rep.Settled || !rep.Undirected {
		t.Errorf("counts off:\n%s", text.String())
	}
	// Every online account is pushed at least its own 3 tweets.
	if rep.PushesTweet < 15*3 || rep.PushesLikes == 0 {
		t.Errorf("pushes: %d tweet, %d likes", rep.PushesTweet, rep.PushesLikes)
	}
	if !strings.Contains(text.String(), "PASS") {
		t.Errorf("report text has no PASS:\n%s", text.String())
	}

	// A second run against the same stack uses fresh handles and passes too.
	rep2, err := Run(context.Background(), cfg)
	if err != nil || !rep2.OK || rep2.Prefix == rep.Prefix {
		t.Errorf("second run: err %v ok %t prefixes %s %s", err, rep2 != nil && rep2.OK, rep.Prefix, rep2.Prefix)
	}
}

func TestRunCatchesBugs(t *testing.T) {
	tests := []struct {
		bug   string
		field func(*Report) map[string]int
		kind  string
	}{
		{"drop_push", func(r *Report) map[string]int { return r.PushMismatches }, PushTweetMissing},
		{"stale_likes", func(r *Report) map[string]int { return r.FeedMismatches }, KindLikes},
		{"reverse_page", func(r *Report) map[string]int { return r.FeedMismatches }, KindOrder},
		{"count_repeat", func(r *Report) map[string]int { return r.ReplyMismatches }, "like"},
	}
	for _, tc := range tests {
		t.Run(tc.bug, func(t *testing.T) {
			cfg := testConfig(startFakeServer(t, tc.bug))
			cfg.Settle = 500 * time.Millisecond
			cfg.Likes = 4 // repeats are likely among small feeds
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			_ = rep.WriteText(&text)
			t.Log("\n" + text.String())
			if rep.OK || rep.ExitCode() != 1 || tc.field(rep)[tc.kind] == 0 {
				t.Errorf("bug %s not caught as %s:\n%s", tc.bug, tc.kind, text.String())
			}
			if !strings.Contains(text.String(), "FAIL") {
				t.Errorf("report text has no FAIL:\n%s", text.String())
			}
		})
	}
}

func TestRunAbortsWhenTheStackGoesAway(t *testing.T) {
	cfg := testConfig(startFakeServer(t, "die_at_like"))
	start := time.Now()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	t.Log("\n" + text.String())
	if rep.OK || rep.Errors["transport"] == 0 || !strings.Contains(rep.Aborted, "stack unreachable") ||
		rep.PushMismatches[PushSocketClosed] != cfg.Online || rep.Settled {
		t.Errorf("lost stack not reported:\n%s", text.String())
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v to give up", time.Since(start))
	}
}

func TestRunRejectsBadSetup(t *testing.T) {
	good := testConfig("ws://127.0.0.1:1/ws")
	tests := []struct {
		name       string
		change     func(*Config)
		wantConfig bool
		wantErr    string
	}{
		{"bad url", func(c *Config) { c.URL = "http://x/ws" }, true, "-url"},
		{"no graph", func(c *Config) { c.GraphPath = "nope/edges.txt" }, true, "open graph"},
		{"bad prefix", func(c *Config) { c.Prefix = "a-b" }, true, "-prefix"},
		{"prefix too long", func(c *Config) { c.Prefix = strings.Repeat("p", 28) }, true, "over 30"},
		{"short password", func(c *Config) { c.Password = "short" }, true, "-password"},
		{"no connections", func(c *Config) { c.Concurrency = 0 }, true, "-c"},
		{"nothing listening", func(c *Config) { c.Timeout = time.Second }, false, "cannot reach"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			rep, err := Run(context.Background(), cfg)
			var ce *ConfigError
			if rep != nil || err == nil || errors.As(err, &ce) != tc.wantConfig || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Run = %v, %v; want a config error %t containing %q", rep, err, tc.wantConfig, tc.wantErr)
			}
		})
	}
}
