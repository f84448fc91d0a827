package crashtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"chirp/cmd/loadcheck"
)

// Push finding kinds: every one of them fails the test.
const (
	PushMissing   = "push_missing"   // an acknowledged post visible to the account never pushed to it
	PushDuplicate = "push_duplicate" // one post pushed twice, or a seq repeated
	PushStray     = "push_stray"     // a tweet push no post of the load explains, or by an author not followed
	PushField     = "push_field"     // a pushed tweet differs from the post reply
	PushLikes     = "push_likes"     // the last likes push of a feed tweet differs from its stored count
	PushGap       = "push_gap"       // a gap push or a malformed push
)

// PushResult is what the push check found over the watched accounts.
type PushResult struct {
	Accounts    int
	TweetPushes int
	LikesPushes int
	Connects    int // sockets opened, the first of each account included
	Resumes     int // of them, auths with since
	SeqJumps    int // seq jumps on live sockets, each repaired by a resume
	Findings    *loadcheck.Tally
	Seconds     float64
}

// CheckPushes checks what each watched account (kept connected by a
// Resumer since before the graph's follows, with no follows beyond the
// graph's) was pushed: every acknowledged post by itself or an account it
// follows exactly once, with the fields of the reply; no other tweet but
// posts whose outcome stayed unknown; and for every tweet of its feed as
// res read it, a last likes push equal to the stored count. It waits up to
// settle for late pushes. Call it after Check.
func (l *Load) CheckPushes(ctx context.Context, watch map[int]*loadcheck.Resumer, res *Result, settle time.Duration) *PushResult {
	start := time.Now()
	accts := slices.Sorted(maps.Keys(watch))
	var out *PushResult
	for {
		out = &PushResult{Accounts: len(accts), Findings: loadcheck.NewTally(10)}
		for _, a := range accts {
			l.checkWatcher(a, watch[a], res, out)
		}
		if out.Findings.Total() == 0 || time.Since(start) > settle || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	out.Seconds = time.Since(start).Seconds()
	return out
}

func (l *Load) checkWatcher(a int, r *loadcheck.Resumer, res *Result, out *PushResult) {
	who := l.accts[a].handle
	add := func(kind, format string, args ...any) {
		out.Findings.Add(kind, who+": "+fmt.Sprintf(format, args...))
	}
	st := r.Stats()
	out.Connects += st.Connects
	out.Resumes += len(st.Resumes)
	out.SeqJumps += len(st.Gaps)
	for _, d := range st.Dups {
		add(PushDuplicate, "%s", d)
	}

	l.mu.Lock()
	followed, maybe := maps.Clone(l.followed[a]), maps.Clone(l.maybeFollow[a])
	l.mu.Unlock()
	sees := func(author int) (must, may bool) {
		if author == a || followed[author] {
			return true, true
		}
		return false, maybe[author]
	}

	pushed := make(map[string]int) // post text -> tweet pushes
	lastLikes := make(map[string]int64)
	for _, p := range r.Pushes() {
		if p.Err != nil || p.Kind == "gap" {
			add(PushGap, "push seq %d (%s): %v", p.Seq, p.Kind, p.Err)
			continue
		}
		switch p.Kind {
		case "likes":
			out.LikesPushes++
			lastLikes[p.TweetID] = p.Likes
			continue
		case "tweet":
			out.TweetPushes++
		default:
			continue
		}
		t := p.Tweet
		l.mu.Lock()
		rec := l.posts[t.Text]
		l.mu.Unlock()
		if rec == nil || l.accts[rec.Acct].handle != t.Author {
			add(PushStray, "tweet push %s by %s %q matches no post request", t.ID, t.Author, t.Text)
			continue
		}
		pushed[t.Text]++
		if pushed[t.Text] > 1 {
			continue // reported below
		}
		if _, may := sees(rec.Acct); !may {
			add(PushStray, "tweet push %s by %s, whom %s does not follow", t.ID, t.Author, who)
		}
		switch rec.Outcome {
		case OK:
			if m := l.Model.Tweet(rec.ID); rec.ID != t.ID || m == nil || m.At != t.At {
				add(PushField, "tweet push %s %q at %s, acknowledged as %s", t.ID, t.Text, t.At, rec.ID)
			}
		case Rejected:
			add(PushStray, "tweet push %s %q of a rejected post", t.ID, t.Text)
		}
	}
	l.mu.Lock()
	posts := slices.Collect(maps.Values(l.posts))
	l.mu.Unlock()
	slices.SortFunc(posts, func(x, y *PostRec) int { return strings.Compare(x.ReqID, y.ReqID) })
	for _, p := range posts {
		if n := pushed[p.Text]; n > 1 {
			add(PushDuplicate, "post %q pushed %d times", p.Text, n)
		}
		if must, _ := sees(p.Acct); must && p.Outcome == OK && pushed[p.Text] == 0 {
			add(PushMissing, "no tweet push for %s %q", p.ID, p.Text)
		}
	}
	if res == nil || a >= len(res.Feeds) {
		return
	}
	for _, t := range res.Feeds[a] {
		got, ok := lastLikes[t.ID]
		switch {
		case !ok && t.Likes > 0:
			add(PushLikes, "tweet %s has %d likes, no likes push arrived", t.ID, t.Likes)
		case ok && got != t.Likes:
			add(PushLikes, "last likes push for %s says %d, stored count %d", t.ID, got, t.Likes)
		}
	}
}
