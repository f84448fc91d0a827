package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"chirp/cmd/loadcheck"
)

// Finding kinds: every one of them fails the test.
const (
	FindMissing      = "missing"         // an acknowledged tweet absent from a feed that must show it
	FindLostPost     = "lost_post"       // an acknowledged post missing from at least one feed (counted once per post)
	FindDupEntry     = "duplicate_entry" // one tweet id twice in one feed
	FindDupPost      = "duplicate_post"  // one post (same author and text) stored under two or more ids
	FindUnknownTwice = "unknown_twice"   // a post whose outcome stayed unknown stored under two or more ids
	FindRejectedSeen = "rejected_seen"   // a post answered with a rejection is in a feed
	FindStray        = "stray"           // a tweet no request of the load explains
	FindExtra        = "extra"           // a tweet in a feed whose owner neither is nor follows its author
	FindLikes        = "likes"           // like count differs from the distinct accounts whose like got ok
	FindOrder        = "order"           // feed not newest first
	FindField        = "field"           // author, text or at differs from the post reply
	FindFeedRead     = "feed_read"       // a feed could not be read (request rejected or no answer)
	FindFeedShape    = "feed_shape"      // bad page: over the limit, cursor not advancing, too many pages
)

const (
	feedPage     = 200
	maxFeedPages = loadcheck.FeedCap/feedPage + 2
)

// Result is what the final check found.
type Result struct {
	Findings     *loadcheck.Tally
	FeedsChecked int
	FeedsReread  int // feeds that matched only after reading again
	TweetsRead   int
	Seconds      float64
	DupPosts     []*PostRec // acknowledged posts stored more than once
	LostPosts    []*PostRec // acknowledged posts missing from a feed
	UnknownPosts int
	UnknownSeen  int // unknown-outcome posts that did get stored (once)
	// Feeds are the feeds as last read, by account (nil when unreadable).
	Feeds [][]loadcheck.Tweet
}

// Check reads every account's feed over WebSocket and compares it with what
// the replies acknowledged. Feeds that differ are read again until settle
// has passed (the services may still be replaying after a restart).
func (l *Load) Check(ctx context.Context, settle time.Duration) *Result {
	start := time.Now()
	var deadline time.Time // settle after the first full read
	res := &Result{Findings: loadcheck.NewTally(12)}
	feeds := make([][]loadcheck.Tweet, len(l.accts))
	readErr := make([]string, len(l.accts))
	var mu sync.Mutex
	pending := make(map[int]bool)
	reread := make(map[int]bool)
	for a := range l.accts {
		if l.usable(a) {
			pending[a] = true
			readErr[a] = "not read: the check ended first" // so an aborted check reports no bogus losses
		}
	}
	for pass := 0; len(pending) > 0 && ctx.Err() == nil; pass++ {
		if pass > 0 {
			l.cfg.Logf("check: pass %d re-reads %d feeds that differ", pass, len(pending))
		}
		l.run(ctx, fmt.Sprintf("check-%d", pass), func(ctx context.Context, w *worker) {
			for _, a := range l.owned(w.n) {
				mu.Lock()
				todo := pending[a]
				mu.Unlock()
				if !todo || ctx.Err() != nil {
					continue
				}
				got, err := l.readFeed(ctx, w, a)
				mu.Lock()
				if err != nil {
					readErr[a] = err.Error()
				} else {
					feeds[a], readErr[a] = got, ""
				}
				mu.Unlock()
				ms, _ := l.compareFeed(a, got)
				mu.Lock()
				if err == nil && len(ms) == 0 {
					delete(pending, a)
				} else if pass == 0 {
					reread[a] = true
				}
				mu.Unlock()
			}
		})
		if pass == 0 {
			deadline = time.Now().Add(settle)
		}
		if time.Now().After(deadline) {
			break
		}
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}

	lost := make(map[string]bool)
	for a := range l.accts {
		if !l.usable(a) {
			continue
		}
		if readErr[a] != "" {
			res.Findings.Add(FindFeedRead, l.accts[a].handle+": "+readErr[a])
			continue
		}
		res.FeedsChecked++
		res.TweetsRead += len(feeds[a])
		if reread[a] && !pending[a] {
			res.FeedsReread++
		}
		ms, missing := l.compareFeed(a, feeds[a])
		res.Findings.AddAll(ms)
		for _, id := range missing {
			lost[id] = true
		}
	}
	l.checkPosts(feeds, lost, res)
	res.Feeds = feeds
	res.Seconds = time.Since(start).Seconds()
	return res
}

// checkPosts checks, over all feeds, that every post is stored at most once
// and that every acknowledged post is stored.
func (l *Load) checkPosts(feeds [][]loadcheck.Tweet, lost map[string]bool, res *Result) {
	ids := make(map[string]map[string]bool) // "author\x00text" -> ids seen
	for _, f := range feeds {
		for _, t := range f {
			k := t.Author + "\x00" + t.Text
			if ids[k] == nil {
				ids[k] = make(map[string]bool)
			}
			ids[k][t.ID] = true
		}
	}
	l.mu.Lock()
	posts := slices.Collect(maps.Values(l.posts))
	l.mu.Unlock()
	slices.SortFunc(posts, func(x, y *PostRec) int { return strings.Compare(x.ReqID, y.ReqID) })
	explained := make(map[string]bool)
	for _, p := range posts {
		k := l.accts[p.Acct].handle + "\x00" + p.Text
		explained[k] = true
		seen := slices.Sorted(maps.Keys(ids[k]))
		switch p.Outcome {
		case OK:
			if len(seen) > 1 {
				res.DupPosts = append(res.DupPosts, p)
				res.Findings.Add(FindDupPost, fmt.Sprintf("post %s %q acknowledged as %s is stored as %v (%d tries, first lost reply: %s)",
					p.ReqID, p.Text, p.ID, seen, p.Tries, p.FirstErr))
			}
			if lost[p.ID] {
				res.LostPosts = append(res.LostPosts, p)
				res.Findings.Add(FindLostPost, fmt.Sprintf("post %s %q acknowledged as %s at %.2fs is missing from feeds",
					p.ReqID, p.Text, p.ID, p.DoneAt.Seconds()))
			}
		case Unknown:
			res.UnknownPosts++
			if len(seen) == 1 {
				res.UnknownSeen++
			}
			if len(seen) > 1 {
				res.Findings.Add(FindUnknownTwice, fmt.Sprintf("post %s %q (outcome unknown after %d tries) is stored as %v", p.ReqID, p.Text, p.Tries, seen))
			}
		case Rejected:
			if len(seen) > 0 {
				res.Findings.Add(FindRejectedSeen, fmt.Sprintf("post %s %q was rejected but is stored as %v", p.ReqID, p.Text, seen))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ids)) {
		if !explained[k] {
			author, text, _ := strings.Cut(k, "\x00")
			res.Findings.Add(FindStray, fmt.Sprintf("tweet(s) %v by %s with text %q match no post request", slices.Sorted(maps.Keys(ids[k])), author, text))
		}
	}
}

// readFeed pages through account a's feed, newest first.
func (l *Load) readFeed(ctx context.Context, w *worker, a int) ([]loadcheck.Tweet, error) {
	var out []loadcheck.Tweet
	var before json.RawMessage
	for page := 0; ; page++ {
		if page == maxFeedPages {
			return out, fmt.Errorf("%s: still a next cursor after %d pages", FindFeedShape, page)
		}
		fields := map[string]any{"limit": feedPage}
		if before != nil {
			fields["before"] = before
		}
		w.cur = &tries{}
		rep, outc, err := w.do(ctx, a, "feed", fields)
		if outc != OK {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		var tweets []loadcheck.Tweet
		if err := rep.Decode("tweets", &tweets); err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		if len(tweets) > feedPage {
			return nil, fmt.Errorf("%s: page %d has %d tweets for limit %d", FindFeedShape, page, len(tweets), feedPage)
		}
		out = append(out, tweets...)
		next, has := rep.Fields["next"]
		if !has || bytes.Equal(bytes.TrimSpace(next), []byte("null")) {
			return out, nil
		}
		if bytes.Equal(next, before) {
			return nil, fmt.Errorf("%s: page %d: next cursor %s did not advance", FindFeedShape, page, next)
		}
		before = next
	}
}

// feedKey orders tweets newest first: at descending, then id descending.
type feedKey struct {
	at time.Time
	id string
}

func newerFirst(x, y feedKey) int {
	if c := y.at.Compare(x.at); c != 0 {
		return c
	}
	return strings.Compare(y.id, x.id)
}

// compareFeed checks account a's feed against the acknowledged writes. It
// returns the mismatches and the ids of acknowledged tweets missing from it.
//
// The feed holds the newest FeedCap tweets it can see, and tweets the
// replies do not explain (a post stored twice, a post whose outcome stayed
// unknown) take places in it too. So when the feed is full, an
// acknowledged tweet must be present only if it is newer than the oldest
// tweet shown; otherwise every visible acknowledged tweet must be present.
func (l *Load) compareFeed(a int, got []loadcheck.Tweet) (ms []loadcheck.Mismatch, missing []string) {
	who := l.accts[a].handle
	add := func(kind, format string, args ...any) {
		ms = append(ms, loadcheck.Mismatch{Kind: kind, Detail: who + ": " + fmt.Sprintf(format, args...)})
	}
	l.mu.Lock()
	maybeFollow := maps.Clone(l.maybeFollow[a])
	l.mu.Unlock()

	seen := make(map[string]bool, len(got))
	keys := make([]feedKey, len(got))
	for i, t := range got {
		at, err := loadcheck.ParseAt(t.At)
		if err != nil {
			add(FindField, "tweet %s: %v", t.ID, err)
		}
		keys[i] = feedKey{at: at, id: t.ID}
		if i > 0 && newerFirst(keys[i-1], keys[i]) >= 0 {
			add(FindOrder, "tweet %s (%s) at position %d is not older than %s (%s)", t.ID, t.At, i, got[i-1].ID, got[i-1].At)
		}
		if seen[t.ID] {
			add(FindDupEntry, "tweet %s %q by %s appears again at position %d", t.ID, t.Text, t.Author, i)
			continue
		}
		seen[t.ID] = true
		rec := l.Model.Tweet(t.ID)
		if rec == nil {
			continue // judged over all feeds by checkPosts
		}
		if t.Author != rec.Handle || t.Text != rec.Text || t.At != rec.At {
			add(FindField, "tweet %s is {%q, %q, %q}, acknowledged as {%q, %q, %q}", t.ID, t.Author, t.Text, t.At, rec.Handle, rec.Text, rec.At)
		}
		if rec.Author != a && !l.follows(a, rec.Author) && !maybeFollow[rec.Author] {
			add(FindExtra, "tweet %s by %s, whom %s does not follow", t.ID, rec.Handle, who)
		}
		want := l.Model.Likes(t.ID)
		l.mu.Lock()
		maybe := int64(len(l.maybeLike[t.ID]))
		l.mu.Unlock()
		if t.Likes < want || t.Likes > want+maybe {
			if maybe > 0 {
				add(FindLikes, "tweet %s has %d likes, want %d..%d", t.ID, t.Likes, want, want+maybe)
			} else {
				add(FindLikes, "tweet %s has %d likes, want %d", t.ID, t.Likes, want)
			}
		}
	}

	full := len(got) >= loadcheck.FeedCap
	var oldest feedKey
	if full {
		oldest = keys[len(keys)-1]
	}
	for _, rec := range l.Model.Visible(a) {
		if seen[rec.ID] {
			continue
		}
		at, _ := loadcheck.ParseAt(rec.At)
		if full && newerFirst(feedKey{at: at, id: rec.ID}, oldest) > 0 {
			break // older than everything a full feed shows
		}
		missing = append(missing, rec.ID)
		add(FindMissing, "tweet %s %q by %s at %s is missing (feed has %d tweets)", rec.ID, rec.Text, rec.Handle, rec.At, len(got))
	}
	return ms, missing
}

// follows reports whether a's follow of b was acknowledged.
func (l *Load) follows(a, b int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.followed[a][b]
}
