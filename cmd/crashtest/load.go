package crashtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"chirp/cmd/loadcheck"
)

// LoadConfig describes the load one crash run drives through the gateway.
type LoadConfig struct {
	URL string
	// URLs, when set, are several gateways of one stack (URL is then
	// unused): worker w starts on URLs[w%len(URLs)] and moves to the next
	// whenever its gateway drops it or cannot be reached.
	URLs            []string
	Graph           *loadcheck.Graph
	Workers         int // concurrent connections; worker w owns accounts a with a%Workers == w
	PostsPerAccount int // rounds of posts; each round every account posts once
	Likes           int // likes in total, spread over the rounds after the first
	ExtraFollows    int // follows beyond the graph, spread over the rounds
	Seed            uint64
	TryTimeout      time.Duration // per try of a request
	GiveUp          time.Duration // per request: after this its outcome stays unknown
	Password        string
	Start           time.Time // the clock that times are measured on
	Logf            func(format string, args ...any)
	// KeepPosting, when set, is asked after the planned rounds; while it
	// returns true every account posts once more.
	KeepPosting func() bool
	// BeforePhase, when set, runs before each phase ("signup", "follow",
	// "mixed", then Check's "check-<pass>") starts: before "follow" every account has signed up, which
	// is the place to connect sockets that must see every push; before
	// "mixed" the graph's follows are done.
	BeforePhase func(ctx context.Context, phase string)
	// FixedFollows are accounts that make no follows beyond the graph's,
	// so that the tweets pushed to them are known exactly.
	FixedFollows map[int]bool
}

// Outcome is what the client knows about a request in the end.
type Outcome int

// Outcomes.
const (
	OK       Outcome = iota // a reply with ok:true
	Rejected                // a definite ok:false reply
	Unknown                 // no definite reply before GiveUp
)

// PostRec is one post request and what became of it.
type PostRec struct {
	Acct       int
	Text       string // unique per post: "p <account> <k>"
	ReqID      string
	Outcome    Outcome
	ID         string // tweet id of the ok reply
	Tries      int
	SentAt     time.Duration
	DoneAt     time.Duration
	FirstErrAt time.Duration // when the first try's outcome turned out unknown
	FirstErr   string
}

// account is one account of the load; owned by one worker.
type account struct {
	handle string
	token  string
	next   int // last request number, ids are "<handle>-<n>"
	posted int // posts sent so far
}

// Load drives the load and records, from the replies alone, what the
// stack must hold at the end.
type Load struct {
	cfg   LoadConfig
	Model *loadcheck.Model
	Stats loadcheck.RetryStats
	accts []*account

	mu          sync.Mutex
	posts       map[string]*PostRec     // by text
	followed    map[int]map[int]bool    // follower -> followees whose follow got ok
	maybeFollow map[int]map[int]bool    // follower -> followees whose follow stayed unknown
	maybeLike   map[string]map[int]bool // tweet -> likers whose like stayed unknown
	liked       []string                // ids of ok posts, in reply order (like targets)
	retriesByOp map[string]int

	Rejections *loadcheck.Tally // definite rejections of valid requests
	Replies    *loadcheck.Tally // ok replies that contradict the contract or the model
	Counts     map[string]*atomic.Int64
	Phases     []PhaseTime
}

// PhaseTime is how long one phase took.
type PhaseTime struct {
	Name    string
	Seconds float64
}

// Count names.
const (
	cSignup        = "signup ok"
	cSignupLogin   = "signup conflict after a lost reply, then login"
	cFollow        = "graph follows ok"
	cExtraFollow   = "extra follows ok"
	cPost          = "posts ok"
	cLike          = "likes ok"
	cUnknownPrefix = "unknown outcome: "
)

// NewLoad prepares a load over cfg.Graph; handles are "u<id>".
func NewLoad(cfg LoadConfig) *Load {
	handles := make([]string, cfg.Graph.N)
	accts := make([]*account, cfg.Graph.N)
	for a := range handles {
		handles[a] = "u" + strconv.Itoa(a)
		accts[a] = &account{handle: handles[a]}
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	l := &Load{
		cfg: cfg, Model: loadcheck.NewModel(handles), accts: accts,
		posts: make(map[string]*PostRec), followed: make(map[int]map[int]bool), maybeFollow: make(map[int]map[int]bool),
		maybeLike: make(map[string]map[int]bool), retriesByOp: make(map[string]int),
		Rejections: loadcheck.NewTally(10), Replies: loadcheck.NewTally(10),
		Counts: make(map[string]*atomic.Int64),
	}
	for _, k := range []string{cSignup, cSignupLogin, cFollow, cExtraFollow, cPost, cLike} {
		l.Counts[k] = new(atomic.Int64)
	}
	for _, op := range []string{"signup", "follow", "post", "like", "feed"} {
		l.Counts[cUnknownPrefix+op] = new(atomic.Int64)
	}
	return l
}

func (l *Load) now() time.Duration { return time.Since(l.cfg.Start) }

// urlsFrom returns the gateway URLs in the order worker n tries them.
func (l *Load) urlsFrom(n int) []string {
	if len(l.cfg.URLs) == 0 {
		return []string{l.cfg.URL}
	}
	return loadcheck.StartingAt(l.cfg.URLs, n)
}

// Account returns account a's handle and, once it signed up, its token.
// Call it between phases (BeforePhase), not while workers run.
func (l *Load) Account(a int) (handle, token string) {
	return l.accts[a].handle, l.accts[a].token
}

// worker is one connection; it sends requests only for the accounts it owns.
type worker struct {
	l   *Load
	n   int
	r   *loadcheck.Retrier
	rng *rand.Rand
	cur *tries // the request in progress
}

// tries is what the Retrier reported about the request in progress.
type tries struct {
	n          int
	firstErr   string
	firstErrAt time.Duration
}

func (l *Load) newWorker(n int) *worker {
	w := &worker{l: l, n: n, r: loadcheck.NewRetrier(l.urlsFrom(n), l.cfg.TryTimeout, &l.Stats),
		rng: rand.New(rand.NewPCG(l.cfg.Seed, uint64(n)<<16|0x776b))}
	w.r.OnRetry = func(id, op string, try int, err error) {
		if w.cur != nil {
			if w.cur.n == 0 {
				w.cur.firstErr, w.cur.firstErrAt = err.Error(), l.now()
			}
			w.cur.n = try
		}
		l.mu.Lock()
		l.retriesByOp[op]++
		l.mu.Unlock()
	}
	return w
}

// do sends one request as account a until its outcome is definite or
// GiveUp passes.
func (w *worker) do(ctx context.Context, a int, op string, fields map[string]any) (loadcheck.Reply, Outcome, error) {
	acct := w.l.accts[a]
	acct.next++
	id := acct.handle + "-" + strconv.Itoa(acct.next)
	rctx, cancel := context.WithTimeout(ctx, w.l.cfg.GiveUp)
	defer cancel()
	rep, err := w.r.Do(rctx, loadcheck.Account{Handle: acct.handle, Password: w.l.cfg.Password, Token: acct.token}, id, op, fields)
	switch {
	case err == nil:
		return rep, OK, nil
	case errors.Is(err, loadcheck.ErrGaveUp):
		w.l.Counts[cUnknownPrefix+op].Add(1)
		return rep, Unknown, err
	}
	var se *loadcheck.ServerError
	if errors.As(err, &se) {
		return rep, Rejected, err
	}
	// Not a server answer (e.g. auth named the wrong account): treat as a
	// rejection the summary shows.
	return rep, Rejected, err
}

func (w *worker) reject(op string, a int, err error) {
	code := "other"
	var se *loadcheck.ServerError
	if errors.As(err, &se) {
		code = se.Code
	}
	w.l.Rejections.Add(op+"/"+code, fmt.Sprintf("%s: %v", w.l.accts[a].handle, err))
}

// owned returns the accounts worker n owns, in id order.
func (l *Load) owned(n int) []int {
	var out []int
	for a := n; a < len(l.accts); a += l.cfg.Workers {
		out = append(out, a)
	}
	return out
}

// run runs fn on every worker at once and records the phase's duration.
func (l *Load) run(ctx context.Context, phase string, fn func(ctx context.Context, w *worker)) {
	if l.cfg.BeforePhase != nil && ctx.Err() == nil {
		l.cfg.BeforePhase(ctx, phase)
	}
	l.cfg.Logf("load: phase %s starts at %.1fs", phase, l.now().Seconds())
	start := time.Now()
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.cfg.Logf("load: %s at %.1fs: %s", phase, l.now().Seconds(), l.progress())
			}
		}
	}()
	var wg sync.WaitGroup
	for n := range l.cfg.Workers {
		wg.Go(func() {
			w := l.newWorker(n)
			defer w.r.Close()
			fn(ctx, w)
		})
	}
	wg.Wait()
	close(stop)
	secs := time.Since(start).Seconds()
	l.Phases = append(l.Phases, PhaseTime{Name: phase, Seconds: secs})
	l.cfg.Logf("load: phase %s done in %.1fs: %s", phase, secs, l.progress())
}

func (l *Load) progress() string {
	return fmt.Sprintf("signups %d, follows %d+%d, posts %d, likes %d, retries %d, dials %d (%d failed)",
		l.Counts[cSignup].Load()+l.Counts[cSignupLogin].Load(), l.Counts[cFollow].Load(), l.Counts[cExtraFollow].Load(),
		l.Counts[cPost].Load(), l.Counts[cLike].Load(), l.Stats.Retries.Load(), l.Stats.Dials.Load(), l.Stats.DialErrors.Load())
}

// Run drives every phase: signup, graph follows, then rounds of posts with
// likes and extra follows mixed in.
func (l *Load) Run(ctx context.Context) {
	l.run(ctx, "signup", l.signupAll)
	l.run(ctx, "follow", l.followGraph)
	plan := l.plan()
	l.run(ctx, "mixed", func(ctx context.Context, w *worker) { l.mixed(ctx, w, plan) })
}

func (l *Load) signupAll(ctx context.Context, w *worker) {
	for _, a := range l.owned(w.n) {
		if ctx.Err() != nil {
			return
		}
		acct := l.accts[a]
		w.cur = &tries{}
		rep, out, err := w.do(ctx, a, "signup", map[string]any{"handle": acct.handle, "password": l.cfg.Password})
		var se *loadcheck.ServerError
		if out == Rejected && errors.As(err, &se) && se.Code == "conflict" && w.cur.n > 0 {
			// An earlier try was applied and its reply lost.
			w.cur = &tries{}
			rep, out, err = w.do(ctx, a, "login", map[string]any{"handle": acct.handle, "password": l.cfg.Password})
			if out == OK {
				l.Counts[cSignupLogin].Add(1)
			}
		} else if out == OK {
			l.Counts[cSignup].Add(1)
		}
		switch out {
		case OK:
			if err := rep.Decode("token", &acct.token); err != nil || acct.token == "" {
				l.Replies.Add("signup", fmt.Sprintf("%s: no token (%v)", acct.handle, err))
			}
		case Rejected:
			w.reject("signup", a, err)
		}
	}
}

// usable reports whether account a signed up (its later requests can auth).
func (l *Load) usable(a int) bool { return l.accts[a].token != "" }

func (l *Load) followGraph(ctx context.Context, w *worker) {
	followees := l.cfg.Graph.Followees()
	for _, a := range l.owned(w.n) {
		if !l.usable(a) {
			continue
		}
		for _, b := range followees[a] {
			if ctx.Err() != nil {
				return
			}
			if l.follow(ctx, w, a, b) {
				l.Counts[cFollow].Add(1)
			}
		}
	}
}

func (l *Load) follow(ctx context.Context, w *worker, a, b int) bool {
	w.cur = &tries{}
	_, out, err := w.do(ctx, a, "follow", map[string]any{"handle": l.accts[b].handle})
	switch out {
	case OK:
		l.Model.AddFollow(a, b)
		l.mu.Lock()
		if l.followed[a] == nil {
			l.followed[a] = make(map[int]bool)
		}
		l.followed[a][b] = true
		l.mu.Unlock()
		return true
	case Unknown:
		l.mu.Lock()
		if l.maybeFollow[a] == nil {
			l.maybeFollow[a] = make(map[int]bool)
		}
		l.maybeFollow[a][b] = true
		l.mu.Unlock()
	default:
		w.reject("follow", a, err)
	}
	return false
}

// extraOp is a like or an extra follow planned for one account and round.
type extraOp struct {
	round  int
	like   bool
	target int // followee of an extra follow
}

// plan spreads the likes over rounds 1.. and the extra follows over all
// rounds, seeded.
func (l *Load) plan() [][]extraOp {
	rng := rand.New(rand.NewPCG(l.cfg.Seed, 0x706c616e))
	plan := make([][]extraOp, len(l.accts))
	rounds := max(1, l.cfg.PostsPerAccount)
	for range l.cfg.Likes {
		a := rng.IntN(len(l.accts))
		r := 0
		if rounds > 1 {
			r = 1 + rng.IntN(rounds-1)
		}
		plan[a] = append(plan[a], extraOp{round: r, like: true})
	}
	for range l.cfg.ExtraFollows {
		a, b := rng.IntN(len(l.accts)), rng.IntN(len(l.accts))
		if a == b || l.cfg.FixedFollows[a] {
			continue
		}
		plan[a] = append(plan[a], extraOp{round: rng.IntN(rounds), target: b})
	}
	return plan
}

func (l *Load) mixed(ctx context.Context, w *worker, plan [][]extraOp) {
	mine := l.owned(w.n)
	lastLike := make(map[int]string)
	for round := 0; ; round++ {
		if round >= l.cfg.PostsPerAccount && (l.cfg.KeepPosting == nil || !l.cfg.KeepPosting()) {
			return
		}
		order := slices.Clone(mine)
		w.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, a := range order {
			if ctx.Err() != nil {
				return
			}
			if !l.usable(a) {
				continue
			}
			l.post(ctx, w, a)
			for _, op := range plan[a] {
				if op.round != round {
					continue
				}
				if op.like {
					l.like(ctx, w, a, lastLike)
				} else if l.follow(ctx, w, a, op.target) {
					l.Counts[cExtraFollow].Add(1)
				}
			}
		}
	}
}

func (l *Load) post(ctx context.Context, w *worker, a int) {
	acct := l.accts[a]
	text := fmt.Sprintf("p %d %d", a, acct.posted)
	acct.posted++
	rec := &PostRec{Acct: a, Text: text, ReqID: acct.handle + "-" + strconv.Itoa(acct.next+1), SentAt: l.now()}
	l.mu.Lock()
	l.posts[text] = rec
	l.mu.Unlock()
	w.cur = &tries{}
	rep, out, err := w.do(ctx, a, "post", map[string]any{"text": text})
	l.mu.Lock()
	rec.Outcome, rec.DoneAt, rec.Tries = out, l.now(), w.cur.n
	rec.FirstErr, rec.FirstErrAt = w.cur.firstErr, w.cur.firstErrAt
	l.mu.Unlock()
	switch out {
	case Rejected:
		w.reject("post", a, err)
		return
	case Unknown:
		return
	}
	var t loadcheck.Tweet
	if err := rep.Decode("tweet", &t); err != nil || t.ID == "" {
		l.Replies.Add("post", fmt.Sprintf("%s %q: no tweet in the reply (%v)", acct.handle, text, err))
		return
	}
	if t.Author != acct.handle || t.Text != text {
		l.Replies.Add("post", fmt.Sprintf("%s %q: reply tweet %s is by %q with text %q", acct.handle, text, t.ID, t.Author, t.Text))
	}
	tr, err := loadcheck.NewTweetRec(t.ID, a, acct.handle, text, t.At)
	if err != nil {
		l.Replies.Add("post", fmt.Sprintf("%s %q: %v", acct.handle, text, err))
		return
	}
	if err := l.Model.AddTweet(tr); err != nil {
		l.Replies.Add("post", err.Error())
		return
	}
	l.mu.Lock()
	rec.ID = t.ID
	l.liked = append(l.liked, t.ID)
	l.mu.Unlock()
	l.Counts[cPost].Add(1)
}

// likeTarget picks a tweet for a to like: sometimes the one it liked last
// (liking twice counts once), often one of the first tweets of the run
// (many likers on one tweet), else one it can see, else any.
func (l *Load) likeTarget(w *worker, a int, lastLike map[int]string) string {
	x := w.rng.Float64()
	if x < 0.05 && lastLike[a] != "" {
		return lastLike[a]
	}
	l.mu.Lock()
	hot := l.liked[:min(len(l.liked), 40)]
	all := l.liked
	var pick string
	if x < 0.35 && len(hot) > 0 {
		pick = hot[w.rng.IntN(len(hot))]
	}
	l.mu.Unlock()
	if pick != "" {
		return pick
	}
	if vis := l.Model.Visible(a); len(vis) > 0 {
		return vis[w.rng.IntN(min(len(vis), loadcheck.FeedCap))].ID
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(all) == 0 {
		return ""
	}
	return all[w.rng.IntN(len(all))]
}

func (l *Load) like(ctx context.Context, w *worker, a int, lastLike map[int]string) {
	id := l.likeTarget(w, a, lastLike)
	if id == "" {
		return
	}
	lastLike[a] = id
	lo := l.Model.LikeSent(a, id)
	w.cur = &tries{}
	rep, out, err := w.do(ctx, a, "like", map[string]any{"tweet": id})
	switch out {
	case Rejected:
		w.reject("like", a, err)
		return
	case Unknown:
		l.mu.Lock()
		if l.maybeLike[id] == nil {
			l.maybeLike[id] = make(map[int]bool)
		}
		l.maybeLike[id][a] = true
		l.mu.Unlock()
		return
	}
	hi := l.Model.LikeConfirmed(a, id)
	l.Counts[cLike].Add(1)
	var n int64
	if err := rep.Decode("likes", &n); err != nil {
		l.Replies.Add("like", fmt.Sprintf("%s liking %s: %v", l.accts[a].handle, id, err))
	} else if n < lo || n > hi {
		l.Replies.Add("like", fmt.Sprintf("%s liking %s: reply says %d likes, want %d..%d", l.accts[a].handle, id, n, lo, hi))
	}
}
