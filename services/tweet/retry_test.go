package tweet

import (
	"testing"

	"chirp/contract"
)

func withRequest(p Post, id string) Post { p.Request = id; return p }

func TestRetriedPostRepublishesTheSameTweet(t *testing.T) {
	w := newWorld(t, created(1, "Alice"))
	first := w.Step(withRequest(postIn(2, "alice", "hello"), "r1"))
	wantEffects(t, first, []Effect{posted(2, "alice", "alice-00000001", "Alice", "hello")})

	// The retry arrives later with its own reply subject; it gets the
	// original tweet (same id and time), and no new tweet is made.
	again := w.Step(withRequest(postIn(3, "alice", "hello"), "r1"))
	want := posted(2, "alice", "alice-00000001", "Alice", "hello")
	want.Reply = "reply.3"
	wantEffects(t, again, []Effect{want})

	next := w.Step(withRequest(postIn(4, "alice", "hello"), "r2"))
	wantEffects(t, next, []Effect{posted(4, "alice", "alice-00000002", "Alice", "hello")})
}

func TestPostsWithoutRequestIDAreNeverMerged(t *testing.T) {
	w := newWorld(t, created(1, "alice"))
	w.Step(postIn(2, "alice", "same"))
	got := w.Step(postIn(3, "alice", "same"))
	wantEffects(t, got, []Effect{posted(3, "alice", "alice-00000002", "alice", "same")})
}

func TestOnlyRecentRequestsAreRemembered(t *testing.T) {
	w := newWorld(t, created(1, "alice"))
	w.Step(withRequest(postIn(2, "alice", "old"), "r-old"))
	for i := uint64(0); i < RecentRequests; i++ {
		w.Step(withRequest(postIn(10+i, "alice", "x"), "r"+contract.Key(string(rune('a'+i)))))
	}
	// r-old fell out of the window: it counts as a new request.
	got := w.Step(withRequest(postIn(100, "alice", "old"), "r-old"))
	id := got[0].(Publish).Event.(contract.TweetPosted).Tweet.ID
	if id != contract.TweetID("alice", RecentRequests+2) {
		t.Fatalf("post after the window got id %s", id)
	}
}
