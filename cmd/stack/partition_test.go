package stack_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"chirp/cmd/loadcheck"
	"chirp/cmd/stack"
)

// Every service as three partitions: follows between accounts of
// different partitions, fan-out to followers spread over all of them and
// likes of tweets owned elsewhere still give exactly the model's feeds and
// pushes.
func TestThreePartitionsMatchTheModelOnSocfbReed98(t *testing.T) {
	url := startStack(t, func(c *stack.Config) { c.Partitions = 3 })
	cfg := loadcheck.DefaultConfig()
	cfg.URL = url
	cfg.GraphPath = reedGraph
	cfg.MaxAccounts = 300
	cfg.K = 2
	cfg.Likes = 2
	cfg.Concurrency = 8
	cfg.Online = 100
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
	if !rep.OK || len(rep.FeedMismatches)+len(rep.PushMismatches)+len(rep.ReplyMismatches) != 0 {
		t.Fatalf("load-and-check with 3 partitions failed: %s", rep.Verdict)
	}
	if rep.FeedsChecked != rep.Accounts || rep.Accounts != 300 || rep.Posts != 600 || rep.PushesTweet == 0 {
		t.Fatalf("counts: %d accounts, %d feeds checked, %d posts, %d tweet pushes", rep.Accounts, rep.FeedsChecked, rep.Posts, rep.PushesTweet)
	}
}
