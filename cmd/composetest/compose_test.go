package composetest

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"chirp/cmd/crashtest"
	"chirp/cmd/loadcheck"
	"chirp/contract"
)

const (
	graphPath = "graphs/twitter-follows-4k/edges.txt" // relative to the repository root
	imageTag  = "composetest"
	minPosts  = 5000
	watchers  = 40 // accounts held connected, whose pushes are checked
)

// TestCompose builds the FROM scratch images, starts docker-compose.yml
// with the local override as a compose project of its own (published on
// free loopback ports, never 8080/8081/4222), waits until every container
// is healthy, and drives the crash test's load on twitter-follows-4k
// through both gateways: workers are spread over the two, and each moves
// to the other when its gateway goes away, resending lost requests with
// the same id. Forty accounts stay connected from before their follows,
// resuming with since on the other gateway when theirs goes away.
// Meanwhile, one at a time, it docker-kills a NATS node, one partition of
// each service and a gateway, starting each again, and cuts a NATS node
// off the network for 20 s. Then every feed must hold every acknowledged
// post exactly once with exact like counts, nothing unacknowledged twice,
// and every watched account must have had every push once, in seq order.
// Finally it removes the project with its volumes and network, also when
// it fails.
//
// It needs a Docker engine and takes minutes, so it runs only with
// CHIRP_COMPOSE=1 (make compose-test). CHIRP_COMPOSE_SEED reruns a seed;
// CHIRP_TEST_OUT keeps the containers' logs.
func TestCompose(t *testing.T) {
	if os.Getenv("CHIRP_COMPOSE") != "1" {
		t.Skip("set CHIRP_COMPOSE=1 to run the compose test (needs Docker; builds images; several minutes)")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHIRP_COMPOSE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHIRP_COMPOSE_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (rerun with CHIRP_COMPOSE=1 CHIRP_COMPOSE_SEED=%d)", seed, seed)
	begin := time.Now()
	// SIGINT or SIGTERM (`timeout`, a CI runner giving up) ends the run
	// early but still through the checks' report and the tear-down.
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, 12*time.Minute)
	defer cancel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := FindCompose(ctx)
	if err != nil {
		t.Fatal(err)
	}

	build := exec.CommandContext(ctx, filepath.Join(root, "deploy", "build-local.sh"))
	build.Env = append(os.Environ(), "CHIRP_LOCAL_TAG="+imageTag)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build images: %v\n%s", err, out)
	}
	t.Logf("built chirp:%s and chirp-nats:%s in %.1fs", imageTag, imageTag, time.Since(begin).Seconds())

	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = crashtest.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	c := &Compose{
		Cmd: cmd, Dir: root, Project: fmt.Sprintf("chirptest%d", seed%1_000_000),
		Files: []string{"docker-compose.yml", "docker-compose.local.yml"},
		Env: []string{
			"CHIRP_LOCAL_TAG=" + imageTag,
			"CHIRP_GATEWAY1_PORT=" + strconv.Itoa(ports[0]),
			"CHIRP_GATEWAY2_PORT=" + strconv.Itoa(ports[1]),
			"CHIRP_NATS_PORT=" + strconv.Itoa(ports[2]),
			"CHIRP_BCRYPT_COST=4",
			// Every client comes from one host address through Docker's
			// network: no per-address or per-account limits.
			"CHIRP_SIGNUPS_PER_MINUTE=0", "CHIRP_CONNS_PER_ADDR=0", "CHIRP_WRITE_RATE=0",
			"CHIRP_TOKEN_SECRET=compose-test-secret",
		},
	}
	t.Cleanup(func() { tearDown(t, c) })

	// Debian's docker-compose 1.29 gives up on a dependency that is not
	// healthy yet when its dependents are due (a service that exited
	// before the cluster had a leader and is being restarted): up again.
	for try := 1; ; try++ {
		_, err := c.Run(ctx, "up", "-d")
		if err == nil {
			break
		}
		if try == 4 || ctx.Err() != nil {
			t.Fatalf("compose up: %v", err)
		}
		t.Logf("compose up, try %d: %v", try, err)
		time.Sleep(3 * time.Second)
	}
	const containers = 11
	if err := c.WaitHealthy(ctx, containers, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("compose project %s: %d containers healthy %.1fs after the start", c.Project, containers, time.Since(begin).Seconds())

	leader, followers, err := checkStream(ctx, "nats://127.0.0.1:"+strconv.Itoa(ports[2]))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stream %s: 3 replicas, leader %s, followers %v", contract.StreamName, leader, followers)

	g, err := loadcheck.LoadGraph(filepath.Join(root, graphPath), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	urls := []string{
		"ws://127.0.0.1:" + strconv.Itoa(ports[0]) + "/ws",
		"ws://127.0.0.1:" + strconv.Itoa(ports[1]) + "/ws",
	}
	// Kill a follower of the stream and cut off the other; with
	// CHIRP_COMPOSE_KILL=leader kill the stream's leader instead, which is
	// harsher: deliveries in flight are lost with it, and the loop must
	// notice and get them again (services/loop/reset.go).
	kill, cut := followers[1], followers[0]
	if os.Getenv("CHIRP_COMPOSE_KILL") == "leader" {
		kill, cut = leader, followers[0]
	}
	watched := pickWatched(g, seed)
	start := time.Now()
	chaos := &Chaos{
		Compose: c, Gap: 3 * time.Second, Start: start, Logf: t.Logf,
		Steps: []Step{
			{Service: kill, Down: 3 * time.Second},
			{Service: "user-1", Down: 2 * time.Second},
			{Service: "tweet-0", Down: 2 * time.Second},
			{Service: "feed-1", Down: 2 * time.Second},
			{Service: "gateway-1", Down: 5 * time.Second},
			// Back once its JetStream is current with the cluster again.
			{Service: cut, Cut: true, Down: 20 * time.Second, Probe: []string{"/chirp", "health", "http://127.0.0.1:8222/healthz"}},
		},
	}
	var load *crashtest.Load
	resumers := make(map[int]*loadcheck.Resumer)
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watchWG, chaosWG sync.WaitGroup
	chaosCtx, stopChaos := context.WithCancel(ctx)
	load = crashtest.NewLoad(crashtest.LoadConfig{
		URLs: urls, Graph: g, Workers: 16, PostsPerAccount: (minPosts + g.N - 1) / g.N,
		Likes: 2000, ExtraFollows: 300, Seed: seed,
		TryTimeout: 10 * time.Second, GiveUp: 90 * time.Second, Password: "password123",
		Start: start, Logf: t.Logf, FixedFollows: watched,
		KeepPosting: func() bool { return !chaos.Done() },
		BeforePhase: func(_ context.Context, phase string) {
			if phase == "mixed" {
				t.Logf("load: graph follows done; chaos starts")
				chaosWG.Go(func() { chaos.Run(chaosCtx) })
				return
			}
			if phase != "follow" {
				return
			}
			for i, a := range slices.Sorted(maps.Keys(watched)) {
				handle, token := load.Account(a)
				if token == "" {
					continue
				}
				r := &loadcheck.Resumer{URLs: loadcheck.StartingAt(urls, i), Handle: handle, Token: token, Timeout: 10 * time.Second}
				resumers[a] = r
				watchWG.Go(func() { r.Run(watchCtx) })
			}
			t.Logf("load: %d watched accounts connected, half to each gateway", len(resumers))
		},
	})
	load.Run(ctx)
	stopChaos()
	chaosWG.Wait()

	var probs []string
	if err := c.WaitHealthy(ctx, containers, 2*time.Minute); err != nil {
		probs = append(probs, "stack not healthy for the check: "+err.Error())
	}
	var res *crashtest.Result
	var pushes *crashtest.PushResult
	if ctx.Err() == nil {
		res = load.Check(ctx, 60*time.Second)
		pushes = load.CheckPushes(ctx, resumers, res, 30*time.Second)
	}
	stopWatch()
	watchWG.Wait()

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("compose test: seed %d, project %s, gateways %v, %.1fs in all", seed, c.Project, urls, time.Since(begin).Seconds())
	p("graph %s: %d accounts, %d edges", graphPath, g.N, len(g.Edges))
	load.WriteSummary(&b)
	p("chaos (%d of %d steps done):", len(chaos.Events()), len(chaos.Steps))
	for _, e := range chaos.Events() {
		p("  %s", e)
		if e.Err != "" {
			probs = append(probs, "chaos step failed: "+e.String())
		}
	}
	if len(chaos.Events()) < len(chaos.Steps) {
		probs = append(probs, fmt.Sprintf("only %d of %d chaos steps ran", len(chaos.Events()), len(chaos.Steps)))
	}
	if res != nil {
		res.WriteSummary(&b)
	}
	if pushes != nil {
		pushes.WriteSummary(&b)
		if n := pushes.Findings.Total(); n > 0 {
			probs = append(probs, fmt.Sprintf("%d push mismatches", n))
		}
		if pushes.Resumes == 0 {
			probs = append(probs, "no watched account resumed on the other gateway: the gateway kill was not exercised")
		}
	}
	if load.Stats.Failovers.Load() == 0 {
		probs = append(probs, "no load connection moved to the other gateway")
	}
	if ctx.Err() != nil {
		probs = append(probs, "aborted: "+ctx.Err().Error())
	}
	probs = append(probs, load.Problems(minPosts, res)...)
	if len(probs) > 0 {
		p("FAIL:")
		for _, pr := range probs {
			p("  %s", pr)
		}
	} else {
		p("PASS: 0 lost, 0 duplicated, like counts exact, every ok reply reflected, every push once in seq order")
	}
	t.Logf("summary:\n%s", b.String())
	if len(probs) > 0 && res != nil {
		var subjects []string
		for _, pr := range append(res.LostPosts[:min(4, len(res.LostPosts)):min(4, len(res.LostPosts))], res.DupPosts[:min(4, len(res.DupPosts))]...) {
			handle, _ := load.Account(pr.Acct)
			if f := "chirp.*.tweet.*." + handle; !slices.Contains(subjects, f) {
				subjects = append(subjects, f)
			}
		}
		t.Logf("stream state:\n%s", dumpStream(context.Background(), "nats://127.0.0.1:"+strconv.Itoa(ports[2]), subjects))
	}
	if len(probs) > 0 {
		t.Errorf("compose test failed (seed %d): %v", seed, probs)
	}
}

// tearDown keeps the containers' logs (in CHIRP_TEST_OUT, or the test log
// when the test failed) and removes the project: containers, volumes,
// network.
func tearDown(t *testing.T, c *Compose) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out := os.Getenv("CHIRP_TEST_OUT"); out != "" {
		if logs, err := c.Run(ctx, "logs", "--no-color", "--timestamps"); err == nil {
			path := filepath.Join(out, c.Project+".log")
			if err := os.WriteFile(path, []byte(logs), 0o644); err != nil {
				t.Logf("write logs: %v", err)
			} else {
				t.Logf("container logs in %s", path)
			}
		}
	}
	if t.Failed() {
		if logs, err := c.Run(ctx, "logs", "--no-color", "--tail=30"); err == nil {
			t.Logf("last lines of every container:\n%s", logs)
		}
		if os.Getenv("CHIRP_TEST_OUT") == "" {
			if logs, err := c.Run(ctx, "logs", "--no-color", "--timestamps"); err == nil {
				path := filepath.Join(os.TempDir(), c.Project+".log")
				if os.WriteFile(path, []byte(logs), 0o644) == nil {
					t.Logf("all container logs in %s", path)
				}
			}
		}
	}
	if _, err := c.Run(ctx, "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
		t.Errorf("compose down: %v", err)
	}
	// Gone with down already, unless down failed half-way.
	_, _ = Docker(ctx, "network", "rm", c.Network())
}

// pickWatched picks, seeded, the accounts whose pushes are checked: ones
// that follow someone, so that they get other accounts' tweets.
func pickWatched(g *loadcheck.Graph, seed uint64) map[int]bool {
	followees := g.Followees()
	var cands []int
	for a, fs := range followees {
		if len(fs) > 0 {
			cands = append(cands, a)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x7761746368))
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	out := make(map[int]bool)
	for _, a := range cands[:min(watchers, len(cands))] {
		out[a] = true
	}
	return out
}
