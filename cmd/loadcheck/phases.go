package loadcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	feedPageLimit = 200
	maxFeedPages  = FeedCap/feedPageLimit + 5
	settlePoll    = 50 * time.Millisecond
	settleGrace   = 300 * time.Millisecond // extra wait after settling, to catch late duplicates
)

// phaseSignup signs every account up and keeps its token.
func (r *runner) phaseSignup(ctx context.Context) {
	var ok atomic.Int64
	r.parallel(ctx, "signup", r.model.Accounts(), func(ctx context.Context, w *worker, a int) {
		rep, err := w.do(ctx, "signup", map[string]any{"handle": r.model.Handle(a), "password": r.cfg.Password})
		if err != nil {
			return
		}
		w.as = a
		r.checkUser("signup", rep, a)
		var token string
		if err := rep.Decode("token", &token); err != nil || token == "" {
			r.replyMismatch("signup", "%s: no usable token (%v)", r.model.Handle(a), err)
			return
		}
		r.tokens[a] = token
		ok.Add(1)
	})
	r.report.Accounts = int(ok.Load())
}

// recorder keeps every push one online socket received.
type recorder struct {
	acct int
	conn *Conn

	mu        sync.Mutex
	pushes    []Push
	tweetSeen map[string]int
	lastLikes map[string]int64
}

func (rec *recorder) add(p Push) {
	p.Fields = nil // not needed after decoding; saves memory
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.pushes = append(rec.pushes, p)
	if p.Err != nil {
		return
	}
	switch p.Kind {
	case "tweet":
		rec.tweetSeen[p.TweetID]++
	case "likes":
		rec.lastLikes[p.TweetID] = p.Likes
	}
}

func (rec *recorder) satisfied(e PushExpect) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return e.Satisfied(rec.tweetSeen, rec.lastLikes)
}

func (rec *recorder) snapshot() []Push {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.pushes)
}

// phaseOnline opens one authenticated socket for each sampled account.
func (r *runner) phaseOnline(ctx context.Context) {
	var candidates []int
	for a, tok := range r.tokens {
		if tok != "" {
			candidates = append(candidates, a)
		}
	}
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x6f6e6c696e65))
	rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	sample := candidates[:min(r.cfg.Online, len(candidates))]
	slices.Sort(sample)

	recs := make([]*recorder, len(sample))
	r.parallel(ctx, "online", len(sample), func(ctx context.Context, _ *worker, i int) {
		a := sample[i]
		dctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		c, err := Dial(dctx, r.cfg.URL)
		cancel()
		if err != nil {
			r.dialFailed(err)
			return
		}
		r.dialFails.Store(0)
		rec := &recorder{acct: a, conn: c, tweetSeen: make(map[string]int), lastLikes: make(map[string]int64)}
		c.OnPush(rec.add)
		c.OnProtocolError(r.protocolError)
		rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		rep, err := c.Do(rctx, "auth", map[string]any{"token": r.tokens[a]})
		cancel()
		if err != nil {
			r.requestError("auth", err)
			c.Close()
			return
		}
		r.checkUser("auth", rep, a)
		recs[i] = rec
	})
	for _, rec := range recs {
		if rec != nil {
			r.online = append(r.online, rec)
		}
	}
	r.report.Online = len(r.online)
}

// phaseFollow makes every edge's follower follow its followee, one auth per follower.
func (r *runner) phaseFollow(ctx context.Context) {
	followees := r.graph.Followees()
	var followers []int
	for a, fs := range followees {
		if len(fs) > 0 {
			followers = append(followers, a)
		}
	}
	var ok atomic.Int64
	r.parallel(ctx, "follow", len(followers), func(ctx context.Context, w *worker, i int) {
		a := followers[i]
		if r.tokens[a] == "" {
			r.skipped.Add(int64(len(followees[a])))
			return
		}
		if w.actAs(ctx, a) != nil {
			return
		}
		for _, b := range followees[a] {
			if _, err := w.do(ctx, "follow", map[string]any{"handle": r.model.Handle(b)}); err != nil {
				if w.actAs(ctx, a) != nil { // the connection may have been replaced
					return
				}
				continue
			}
			r.model.AddFollow(a, b)
			ok.Add(1)
		}
	})
	r.report.Edges = int(ok.Load())
}

// postText is the deterministic text of account a's k-th tweet.
func postText(a, k int, prefix string) string {
	return fmt.Sprintf("t %d %d %s", a, k, prefix)
}

// phasePost posts K tweets per account and records each reply in the model.
func (r *runner) phasePost(ctx context.Context) {
	r.parallel(ctx, "post", r.model.Accounts(), func(ctx context.Context, w *worker, a int) {
		if r.tokens[a] == "" {
			r.skipped.Add(int64(r.cfg.K))
			return
		}
		for k := range r.cfg.K {
			if w.actAs(ctx, a) != nil {
				return
			}
			text := postText(a, k, r.prefix)
			rep, err := w.do(ctx, "post", map[string]any{"text": text})
			if err != nil {
				continue
			}
			r.recordPost(a, text, rep)
		}
	})
	r.report.Posts = r.model.Tweets()
}

func (r *runner) recordPost(a int, text string, rep Reply) {
	handle := r.model.Handle(a)
	var t Tweet
	if err := rep.Decode("tweet", &t); err != nil {
		r.replyMismatch("post", "%s: %v", handle, err)
		return
	}
	if t.ID == "" {
		r.replyMismatch("post", "%s: tweet has no id", handle)
		return
	}
	if t.Author != handle || t.Text != text || t.Likes != 0 {
		r.replyMismatch("post", "%s: reply tweet %s is {author %q, text %q, likes %d}, sent as {%q, %q, 0}",
			handle, t.ID, t.Author, t.Text, t.Likes, handle, text)
	}
	rec, err := NewTweetRec(t.ID, a, handle, text, t.At)
	if err != nil {
		r.replyMismatch("post", "%s: tweet %s: %v", handle, t.ID, err)
		return
	}
	if err := r.model.AddTweet(rec); err != nil {
		r.replyMismatch("post", "%v", err)
	}
}

// phaseLike has every account like cfg.Likes tweets picked (seeded, with
// replacement, so an account may like a tweet twice) from its expected feed.
func (r *runner) phaseLike(ctx context.Context) {
	var ok atomic.Int64
	r.parallel(ctx, "like", r.model.Accounts(), func(ctx context.Context, w *worker, a int) {
		if r.tokens[a] == "" || r.cfg.Likes == 0 {
			return
		}
		feed := r.model.Feed(a)
		if len(feed) == 0 {
			return
		}
		rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(a)<<8|0x4c))
		for range r.cfg.Likes {
			t := feed[rng.IntN(len(feed))]
			if w.actAs(ctx, a) != nil {
				return
			}
			lo := r.model.LikeSent(a, t.ID)
			rep, err := w.do(ctx, "like", map[string]any{"tweet": t.ID})
			if err != nil {
				continue
			}
			hi := r.model.LikeConfirmed(a, t.ID)
			ok.Add(1)
			var n int64
			if err := rep.Decode("likes", &n); err != nil {
				r.replyMismatch("like", "%s liking %s: %v", r.model.Handle(a), t.ID, err)
				continue
			}
			if n < lo || n > hi {
				r.replyMismatch("like", "%s liking %s: reply says %d likes, want %d..%d", r.model.Handle(a), t.ID, n, lo, hi)
			}
		}
	})
	r.report.Likes = int(ok.Load())
}

// phaseSettle waits until every online socket has been pushed what it
// should be, or cfg.Settle passes.
func (r *runner) phaseSettle(ctx context.Context) {
	r.expect = make([]PushExpect, len(r.online))
	for i, rec := range r.online {
		r.expect[i] = r.model.ExpectPushes(rec.acct)
	}
	deadline := time.Now().Add(r.cfg.Settle)
	pending := slices.Clone(r.online)
	idx := make(map[*recorder]int, len(r.online))
	for i, rec := range r.online {
		idx[rec] = i
	}
	for {
		dead := 0
		pending = slices.DeleteFunc(pending, func(rec *recorder) bool {
			if rec.conn.Err() != nil {
				dead++ // reported by the push check
				return true
			}
			return rec.satisfied(r.expect[idx[rec]])
		})
		if len(pending) == 0 {
			r.report.Settled = dead == 0
			grace := min(settleGrace, time.Until(deadline))
			if grace > 0 {
				_ = sleepCtx(ctx, grace)
			}
			return
		}
		if time.Now().After(deadline) || sleepCtx(ctx, settlePoll) != nil {
			r.log.Warn("settle: gave up waiting for pushes", "accounts still waiting", len(pending))
			return
		}
	}
}

// phaseFeeds reads every account's whole feed and compares it with the
// model. A feed that differs is read again until cfg.Settle has passed since
// the phase began, since other accounts' writes need only be eventually visible.
func (r *runner) phaseFeeds(ctx context.Context) {
	deadline := time.Now().Add(r.cfg.Settle)
	var checked, retried atomic.Int64
	r.parallel(ctx, "feeds", r.model.Accounts(), func(ctx context.Context, w *worker, a int) {
		if r.tokens[a] == "" {
			r.skipped.Add(1)
			return
		}
		backoff := 100 * time.Millisecond
		for try := 0; ; try++ {
			got, ok := r.readFeed(ctx, w, a)
			if !ok {
				return
			}
			ms := r.model.CompareFeed(a, got)
			if len(ms) == 0 || time.Now().Add(backoff).After(deadline) || ctx.Err() != nil {
				checked.Add(1)
				if try > 0 && len(ms) == 0 {
					retried.Add(1)
				}
				r.feedMismatches.AddAll(ms)
				return
			}
			_ = sleepCtx(ctx, backoff)
			backoff = min(2*backoff, 2*time.Second)
		}
	})
	r.report.FeedsChecked = int(checked.Load())
	r.report.FeedsReread = int(retried.Load())
}

// readFeed pages through account a's feed; ok is false if a request failed.
func (r *runner) readFeed(ctx context.Context, w *worker, a int) (tweets []Tweet, ok bool) {
	handle := r.model.Handle(a)
	var before json.RawMessage
	for page := 0; ; page++ {
		if page == maxFeedPages {
			r.replyMismatch("feed", "%s: still a next cursor after %d pages of %d", handle, page, feedPageLimit)
			return tweets, true
		}
		if w.actAs(ctx, a) != nil {
			return nil, false
		}
		fields := map[string]any{"limit": feedPageLimit}
		if before != nil {
			fields["before"] = before
		}
		rep, err := w.do(ctx, "feed", fields)
		if err != nil {
			return nil, false
		}
		var pageTweets []Tweet
		if err := rep.Decode("tweets", &pageTweets); err != nil {
			r.replyMismatch("feed", "%s page %d: %v", handle, page, err)
			return nil, false
		}
		if len(pageTweets) > feedPageLimit {
			r.replyMismatch("feed", "%s page %d: %d tweets for limit %d", handle, page, len(pageTweets), feedPageLimit)
		}
		tweets = append(tweets, pageTweets...)
		next, has := rep.Fields["next"]
		if !has || bytes.Equal(bytes.TrimSpace(next), []byte("null")) {
			return tweets, true
		}
		if bytes.Equal(next, before) {
			r.replyMismatch("feed", "%s page %d: next cursor %s did not advance", handle, page, next)
			return tweets, true
		}
		before = next
	}
}

// phasePushCheck checks what every online socket was pushed. Without
// expectations (the run was aborted before settling) it only reports sockets
// that ended early.
func (r *runner) phasePushCheck() {
	for i, rec := range r.online {
		if err := rec.conn.Err(); err != nil {
			r.pushMismatches.Add(PushSocketClosed, fmt.Sprintf("%s: online socket ended early: %v", r.model.Handle(rec.acct), err))
		}
		pushes := rec.snapshot()
		for _, p := range pushes {
			switch p.Kind {
			case "tweet":
				r.report.PushesTweet++
			case "likes":
				r.report.PushesLikes++
			default:
				r.report.PushesOther++
			}
		}
		if r.expect != nil {
			r.pushMismatches.AddAll(r.model.CheckPushes(rec.acct, r.expect[i], pushes))
		}
	}
}
