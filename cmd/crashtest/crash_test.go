package crashtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"chirp/cmd/loadcheck"
)

const graphPath = "../../graphs/twitter-follows-4k/edges.txt"

// TestCrashRecovery runs the stack as separate OS processes, drives a load
// on twitter-follows-4k through the gateway (every account signs up, every
// follow of the graph, then at least 10,000 posts with likes and extra
// follows), and meanwhile kills the user, tweet and feed services, the
// gateway and the nats-server with SIGKILL, each at least once, restarting
// each after a short pause. The loader resends every request whose reply
// was lost with the same id and fields until the answer is definite. At
// the end every feed must hold every acknowledged post exactly once, like
// counts must equal the distinct accounts whose like got ok, and no post
// may be stored twice.
//
// It takes minutes, so it runs only with CHIRP_CRASH=1:
//
//	CHIRP_CRASH=1 go test -run TestCrashRecovery -timeout 20m -v ./crashtest/
//
// CHIRP_CRASH_SEED reruns a seed (the kill schedule and the load's choices;
// the timing of the machine still varies). CHIRP_TEST_OUT keeps logs and
// data in a folder of your choice.
func TestCrashRecovery(t *testing.T) {
	if os.Getenv("CHIRP_CRASH") != "1" {
		t.Skip("set CHIRP_CRASH=1 to run the crash test (several minutes)")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHIRP_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHIRP_CRASH_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (rerun with CHIRP_CRASH=1 CHIRP_CRASH_SEED=%d)", seed, seed)
	out := os.Getenv("CHIRP_TEST_OUT")
	if out == "" {
		out = t.TempDir()
	} else {
		out = filepath.Join(out, "crash-"+strconv.FormatUint(seed, 10)+"-"+time.Now().UTC().Format("150405"))
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	begin := time.Now()
	bins, err := Build(ctx, "..", filepath.Join(out, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built binaries in %.1fs", time.Since(begin).Seconds())
	g, err := loadcheck.LoadGraph(graphPath, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	stack, err := StartStack(ctx, bins, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stack.Stop()
		if t.Failed() {
			t.Logf("process logs:\n%s", stack.Tails(40))
		}
	})

	start := time.Now()
	chaos := NewChaos(stack, seed, start)
	chaos.Logf = t.Logf
	const minPosts = 10_000
	postsPerAccount := (minPosts + g.N - 1) / g.N
	load := NewLoad(LoadConfig{
		URL: stack.WSURL, Graph: g, Workers: 16, PostsPerAccount: postsPerAccount,
		Likes: 2500, ExtraFollows: 400, Seed: seed,
		TryTimeout: 10 * time.Second, GiveUp: 90 * time.Second, Password: "password123",
		Start: start, Logf: t.Logf,
		KeepPosting: func() bool { return !chaos.Covered() },
	})
	chaosCtx, stopChaos := context.WithCancel(ctx)
	chaosDone := make(chan struct{})
	go func() {
		defer close(chaosDone)
		chaos.Run(chaosCtx)
	}()
	load.Run(ctx)
	stopChaos()
	<-chaosDone

	sum := &Summary{
		Seed: seed, Out: out, Graph: graphPath, Accounts: g.N, Edges: len(g.Edges), MinPosts: minPosts,
		Load: load, Chaos: chaos, Restarts: make(map[string]int),
	}
	if err := stack.WaitReady(ctx, 2*time.Minute); err != nil {
		sum.NotReady = err.Error()
	}
	if ctx.Err() == nil {
		sum.Result = load.Check(ctx, 60*time.Second)
	}
	if ctx.Err() != nil {
		sum.Aborted = ctx.Err().Error()
	}
	for _, n := range stack.Order {
		sum.Restarts[n] = stack.Procs[n].Starts()
	}
	sum.Exits = stack.Unexpected()
	sum.Total = time.Since(begin)
	text := sum.Text()
	if err := os.WriteFile(filepath.Join(out, "summary.txt"), []byte(text), 0o644); err != nil {
		t.Errorf("write summary: %v", err)
	}
	t.Logf("summary:\n%s", text)
	if probs := sum.Problems(); len(probs) > 0 {
		t.Errorf("crash test failed (seed %d): %v", seed, probs)
	}
}
