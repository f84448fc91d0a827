package loadcheck

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// FeedCap is how many tweets a feed holds at most.
const FeedCap = 800

// AtLayout is the exact form of a tweet's "at": RFC 3339, UTC, milliseconds.
const AtLayout = "2006-01-02T15:04:05.000Z"

// ParseAt parses a tweet's "at", insisting on the exact AtLayout form.
func ParseAt(s string) (time.Time, error) {
	t, err := time.Parse(AtLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("at %q is not RFC 3339 UTC with milliseconds: %w", s, err)
	}
	return t, nil
}

// TweetRec is a tweet the model knows about: what a post reply returned.
type TweetRec struct {
	ID     string
	Author int
	Handle string
	Text   string
	At     string // as the server formatted it
	at     time.Time

	likers map[int]struct{} // accounts whose like got an ok reply
	tried  map[int]struct{} // accounts that sent a like, answered or not
}

// NewTweetRec builds a record, parsing at.
func NewTweetRec(id string, author int, handle, text, at string) (*TweetRec, error) {
	t, err := ParseAt(at)
	if err != nil {
		return nil, err
	}
	return &TweetRec{ID: id, Author: author, Handle: handle, Text: text, At: at, at: t}, nil
}

// compareFeedOrder orders newest first: at descending, then id descending as
// byte strings.
func compareFeedOrder(a, b *TweetRec) int {
	if c := b.at.Compare(a.at); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// Model is what the stack should hold given the requests that got ok
// replies. It is safe for concurrent use.
type Model struct {
	mu        sync.Mutex
	handles   []string
	followees []map[int]struct{}
	byAuthor  [][]*TweetRec
	byID      map[string]*TweetRec
}

// NewModel makes an empty model for accounts 0..len(handles)-1.
func NewModel(handles []string) *Model {
	return &Model{
		handles:   handles,
		followees: make([]map[int]struct{}, len(handles)),
		byAuthor:  make([][]*TweetRec, len(handles)),
		byID:      make(map[string]*TweetRec),
	}
}

// Handle returns the handle of account a.
func (m *Model) Handle(a int) string { return m.handles[a] }

// Accounts returns the number of accounts.
func (m *Model) Accounts() int { return len(m.handles) }

// AddFollow records that follower follows followee (idempotent).
func (m *Model) AddFollow(follower, followee int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.followees[follower] == nil {
		m.followees[follower] = make(map[int]struct{})
	}
	m.followees[follower][followee] = struct{}{}
}

// AddTweet records an accepted tweet; a repeated id is an error.
func (m *Model) AddTweet(t *TweetRec) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, dup := m.byID[t.ID]; dup {
		return fmt.Errorf("tweet id %q returned twice (by %s and %s)", t.ID, old.Handle, t.Handle)
	}
	t.likers, t.tried = make(map[int]struct{}), make(map[int]struct{})
	m.byID[t.ID] = t
	m.byAuthor[t.Author] = append(m.byAuthor[t.Author], t)
	return nil
}

// Tweet returns the record for id, or nil.
func (m *Model) Tweet(id string) *TweetRec {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byID[id]
}

// Tweets returns the number of tweets recorded.
func (m *Model) Tweets() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

// LikeSent records that liker is about to like id and returns the lowest
// count the reply may show: every like already answered ok, plus this one.
func (m *Model) LikeSent(liker int, id string) (minLikes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.byID[id]
	if t == nil {
		return 0
	}
	t.tried[liker] = struct{}{}
	n := len(t.likers)
	if _, already := t.likers[liker]; !already {
		n++
	}
	return int64(n)
}

// LikeConfirmed records an ok like reply and returns the highest count the
// reply may show: the number of distinct accounts that ever sent a like.
func (m *Model) LikeConfirmed(liker int, id string) (maxLikes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.byID[id]
	if t == nil {
		return 0
	}
	t.likers[liker] = struct{}{}
	return int64(len(t.tried))
}

// Likes returns the expected like count of id: its distinct confirmed likers.
func (m *Model) Likes(id string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.byID[id]; t != nil {
		return int64(len(t.likers))
	}
	return 0
}

// Visible returns every tweet whose author is a or an account a follows, in
// feed order (newest first), without the FeedCap limit.
func (m *Model) Visible(a int) []*TweetRec {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.byAuthor[a])
	for f := range m.followees[a] {
		out = append(out, m.byAuthor[f]...)
	}
	slices.SortFunc(out, compareFeedOrder)
	return out
}

// Feed returns the expected feed of a: the newest FeedCap visible tweets.
func (m *Model) Feed(a int) []*TweetRec {
	v := m.Visible(a)
	if len(v) > FeedCap {
		v = v[:FeedCap:FeedCap]
	}
	return v
}

// PushExpect is what an online account must have been pushed.
type PushExpect struct {
	Tweets    map[string]bool  // every visible tweet: exactly one tweet push each
	FeedLikes map[string]int64 // tweets in the capped feed: final like count
}

// ExpectPushes computes the push expectations of account a. Call it once all
// follows, posts and likes are done.
func (m *Model) ExpectPushes(a int) PushExpect {
	v := m.Visible(a)
	e := PushExpect{Tweets: make(map[string]bool, len(v)), FeedLikes: make(map[string]int64)}
	for i, t := range v {
		e.Tweets[t.ID] = true
		if i < FeedCap {
			e.FeedLikes[t.ID] = m.Likes(t.ID)
		}
	}
	return e
}

// Satisfied reports whether the pushes seen so far meet e: every expected
// tweet pushed at least once, and for every feed tweet with likes the last
// likes push shows the final count.
func (e PushExpect) Satisfied(tweetSeen map[string]int, lastLikes map[string]int64) bool {
	for id := range e.Tweets {
		if tweetSeen[id] == 0 {
			return false
		}
	}
	for id, want := range e.FeedLikes {
		got, ok := lastLikes[id]
		if (want > 0 && !ok) || (ok && got != want) {
			return false
		}
	}
	return true
}
