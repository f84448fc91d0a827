package loadcheck

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Mismatch is one difference between what the stack returned and the model.
type Mismatch struct {
	Kind   string
	Detail string
}

// Feed mismatch kinds.
const (
	KindMissing = "missing" // expected tweet absent from the feed
	KindExtra   = "extra"   // tweet in the feed that should not be there (or repeated)
	KindOrder   = "order"   // the common tweets are in a different order
	KindLikes   = "likes"   // like count differs
	KindField   = "field"   // author, text or at differs from the post reply
)

// Push mismatch kinds.
const (
	PushTweetMissing   = "tweet_missing"   // an expected tweet push never arrived
	PushTweetDuplicate = "tweet_duplicate" // a tweet pushed more than once
	PushTweetExtra     = "tweet_extra"     // a tweet push for a tweet not in the account's feed
	PushTweetField     = "tweet_field"     // pushed tweet differs from the post reply
	PushSeq            = "seq"             // seq not strictly increasing
	PushLikesMissing   = "likes_missing"   // a feed tweet got likes but no likes push arrived
	PushLikesWrong     = "likes_wrong"     // the last likes push does not show the final count
	PushLikesForeign   = "likes_foreign"   // a likes push for a tweet not visible to the account
	PushMalformed      = "malformed"       // missing or mistyped members, or an unknown kind
	PushSocketClosed   = "socket_closed"   // the online socket ended before the check
)

// CompareFeed compares the feed the stack returned for account a with the
// model's expected feed.
func (m *Model) CompareFeed(a int, got []Tweet) []Mismatch {
	expected := m.Feed(a)
	who := m.Handle(a)
	var out []Mismatch
	add := func(kind, format string, args ...any) {
		out = append(out, Mismatch{Kind: kind, Detail: who + ": " + fmt.Sprintf(format, args...)})
	}

	pos := make(map[string]int, len(expected))
	for i, t := range expected {
		pos[t.ID] = i
	}
	seen := make(map[string]bool, len(got))
	var commonGot []string
	for i, t := range got {
		if seen[t.ID] {
			add(KindExtra, "tweet %s repeated at position %d", t.ID, i)
			continue
		}
		seen[t.ID] = true
		j, ok := pos[t.ID]
		if !ok {
			add(KindExtra, "tweet %s at position %d should not be in the feed (%s)", t.ID, i, m.whyNot(a, t.ID))
			continue
		}
		commonGot = append(commonGot, t.ID)
		want := expected[j]
		if t.Author != want.Handle || t.Text != want.Text || t.At != want.At {
			add(KindField, "tweet %s is {author %q, text %q, at %q}, posted as {%q, %q, %q}",
				t.ID, t.Author, t.Text, t.At, want.Handle, want.Text, want.At)
		}
		if wantLikes := m.Likes(t.ID); t.Likes != wantLikes {
			add(KindLikes, "tweet %s has %d likes, want %d", t.ID, t.Likes, wantLikes)
		}
	}
	var commonExp []string
	for i, t := range expected {
		if !seen[t.ID] {
			add(KindMissing, "tweet %s by %s at %s (expected position %d of %d) missing", t.ID, t.Handle, t.At, i, len(expected))
			continue
		}
		commonExp = append(commonExp, t.ID)
	}
	for i := range commonExp {
		if commonGot[i] != commonExp[i] {
			add(KindOrder, "at common position %d got tweet %s, want %s", i, commonGot[i], commonExp[i])
			break
		}
	}
	return out
}

func (m *Model) whyNot(a int, id string) string {
	t := m.Tweet(id)
	if t == nil {
		return "unknown tweet"
	}
	if t.Author == a {
		return "own tweet beyond the newest FeedCap"
	}
	m.mu.Lock()
	_, follows := m.followees[a][t.Author]
	m.mu.Unlock()
	if follows {
		return fmt.Sprintf("by followee %s but beyond the newest %d", t.Handle, FeedCap)
	}
	return fmt.Sprintf("by %s, who is not followed", t.Handle)
}

// CheckPushes checks everything account a was pushed (in arrival order)
// against exp, which came from m.ExpectPushes(a).
func (m *Model) CheckPushes(a int, exp PushExpect, pushes []Push) []Mismatch {
	who := m.Handle(a)
	var out []Mismatch
	add := func(kind, format string, args ...any) {
		out = append(out, Mismatch{Kind: kind, Detail: who + ": " + fmt.Sprintf(format, args...)})
	}

	tweetCount := make(map[string]int)
	lastLikes := make(map[string]int64)
	for i, p := range pushes {
		if i > 0 && p.Seq <= pushes[i-1].Seq {
			add(PushSeq, "push %d (%s) has seq %d after seq %d", i, p.Kind, p.Seq, pushes[i-1].Seq)
		}
		if p.Err != nil {
			add(PushMalformed, "push %d: %v", i, p.Err)
			continue
		}
		switch p.Kind {
		case "tweet":
			tweetCount[p.TweetID]++
			if tweetCount[p.TweetID] > 1 {
				continue // reported once below
			}
			if !exp.Tweets[p.TweetID] {
				add(PushTweetExtra, "tweet push for %s (seq %d): %s", p.TweetID, p.Seq, m.whyNot(a, p.TweetID))
				continue
			}
			if t := m.Tweet(p.TweetID); t != nil && (p.Tweet.Author != t.Handle || p.Tweet.Text != t.Text || p.Tweet.At != t.At) {
				add(PushTweetField, "tweet push %s is {author %q, text %q, at %q}, posted as {%q, %q, %q}",
					p.TweetID, p.Tweet.Author, p.Tweet.Text, p.Tweet.At, t.Handle, t.Text, t.At)
			}
		case "likes":
			if !exp.Tweets[p.TweetID] {
				add(PushLikesForeign, "likes push for %s (seq %d): %s", p.TweetID, p.Seq, m.whyNot(a, p.TweetID))
				continue
			}
			lastLikes[p.TweetID] = p.Likes
		}
	}
	for _, id := range slices.Sorted(maps.Keys(tweetCount)) {
		if n := tweetCount[id]; n > 1 {
			add(PushTweetDuplicate, "tweet %s pushed %d times", id, n)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(exp.Tweets)) {
		if tweetCount[id] == 0 {
			add(PushTweetMissing, "no tweet push for %s", id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(exp.FeedLikes)) {
		want := exp.FeedLikes[id]
		got, ok := lastLikes[id]
		switch {
		case !ok && want > 0:
			add(PushLikesMissing, "tweet %s has %d likes but no likes push arrived", id, want)
		case ok && got != want:
			add(PushLikesWrong, "last likes push for %s says %d, final count is %d", id, got, want)
		}
	}
	return out
}

// Tally counts mismatches (or errors) by kind and keeps the first few
// examples of each kind. It is safe for concurrent use.
type Tally struct {
	mu       sync.Mutex
	max      int
	counts   map[string]int
	examples map[string][]string
}

// NewTally keeps up to maxExamples examples.
func NewTally(maxExamples int) *Tally {
	return &Tally{max: maxExamples, counts: make(map[string]int), examples: make(map[string][]string)}
}

// Add counts one occurrence of kind.
func (t *Tally) Add(kind, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[kind]++
	if len(t.examples[kind]) < t.max {
		t.examples[kind] = append(t.examples[kind], kind+": "+detail)
	}
}

// AddAll counts a batch of mismatches.
func (t *Tally) AddAll(ms []Mismatch) {
	for _, m := range ms {
		t.Add(m.Kind, m.Detail)
	}
}

// Counts returns a copy of the counts by kind.
func (t *Tally) Counts() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.counts)
}

// Examples returns up to maxExamples examples, taking the first of each
// kind in turn so that every kind is represented.
func (t *Tally) Examples() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	kinds := slices.Sorted(maps.Keys(t.examples))
	var out []string
	for i := 0; len(out) < t.max; i++ {
		added := false
		for _, k := range kinds {
			if i < len(t.examples[k]) && len(out) < t.max {
				out = append(out, t.examples[k][i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// Total returns the number of occurrences of all kinds.
func (t *Tally) Total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}
