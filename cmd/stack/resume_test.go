package stack_test

import (
	"fmt"
	"testing"
	"time"

	"chirp/cmd/loadcheck"
)

// Resume: auth with since replays the retained pushes after since, in
// order, then continues live, with no gap and no duplicate.

// token signs up on c and returns the reply's token.
func tokenOf(t *testing.T, rep loadcheck.Reply) string {
	t.Helper()
	var tok string
	if err := rep.Decode("token", &tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// resumeAs opens a connection acting as handle by token, resuming after
// since, and returns it.
func resumeAs(t *testing.T, url, handle, token string, since int64) *client {
	t.Helper()
	c := dial(t, url)
	c.handle = handle
	c.ok("auth", map[string]any{"token": token, "since": since})
	return c
}

// collect waits for n pushes and returns them.
func (c *client) collect(n int) []loadcheck.Push {
	c.t.Helper()
	out := make([]loadcheck.Push, 0, n)
	for len(out) < n {
		out = append(out, c.nextPush())
	}
	return out
}

// requireSeqs checks pushes are tweet pushes with seqs from..from+len-1 and
// the given tweet ids, in order.
func requireTweetPushes(t *testing.T, got []loadcheck.Push, from int64, ids []string) {
	t.Helper()
	if len(got) != len(ids) {
		t.Fatalf("got %d pushes, want %d", len(got), len(ids))
	}
	for i, p := range got {
		if p.Kind != "tweet" || p.Seq != from+int64(i) || p.TweetID != ids[i] {
			t.Fatalf("push %d: %s seq %d of %s; want tweet seq %d of %s", i, p.Kind, p.Seq, p.TweetID, from+int64(i), ids[i])
		}
	}
}

func TestResumeAfterAwayDelivers50MissedTweetsOnce(t *testing.T) {
	url := startStack(t, nil)
	alice := signup(t, url, "alice")
	bobHandle := newHandle("bob")
	bob := dial(t, url)
	bob.handle = bobHandle
	tok := tokenOf(t, bob.ok("signup", map[string]any{"handle": bobHandle, "password": testPassword}))
	bob.follow(alice.handle)
	first := alice.post("before leaving")
	p := bob.nextTweetPush(first.ID)
	bob.Close()

	var ids []string
	for i := 0; i < 50; i++ {
		ids = append(ids, alice.post(fmt.Sprintf("while away %d", i)).ID)
	}
	back := resumeAs(t, url, bobHandle, tok, p.Seq)
	requireTweetPushes(t, back.collect(50), p.Seq+1, ids)
	// Live again: the next tweet follows on.
	next := alice.post("welcome back")
	if q := back.nextTweetPush(next.ID); q.Seq != p.Seq+51 {
		t.Fatalf("live push after resume has seq %d, want %d", q.Seq, p.Seq+51)
	}
	back.noPushQueued()
}

func TestResumeWhilePushesArriveHasNoGapOrDuplicate(t *testing.T) {
	url := startStack(t, nil)
	alice := signup(t, url, "alice")
	bobHandle := newHandle("bob")
	bob := dial(t, url)
	bob.handle = bobHandle
	tok := tokenOf(t, bob.ok("signup", map[string]any{"handle": bobHandle, "password": testPassword}))
	bob.follow(alice.handle)
	bob.Close()

	var ids []string
	for i := 0; i < 30; i++ {
		ids = append(ids, alice.post(fmt.Sprintf("before %d", i)).ID)
	}
	// Posts keep arriving while the client reconnects twice within 100 ms;
	// each connection resumes from what it has seen.
	posted := make(chan []string, 1)
	go func() {
		var more []string
		for i := 0; i < 30; i++ {
			rep, err := alice.do("post", map[string]any{"text": fmt.Sprintf("during %d", i)})
			if err != nil {
				t.Errorf("post during resume: %v", err)
				break
			}
			var tw loadcheck.Tweet
			if err := rep.Decode("tweet", &tw); err != nil {
				t.Errorf("post reply: %v", err)
				break
			}
			more = append(more, tw.ID)
		}
		posted <- more
	}()
	c1 := resumeAs(t, url, bobHandle, tok, 0)
	seen := c1.collect(3)
	c1.Close()
	time.Sleep(50 * time.Millisecond)
	c2 := resumeAs(t, url, bobHandle, tok, seen[len(seen)-1].Seq)
	seen = append(seen, c2.collect(5)...)
	c2.Close()
	time.Sleep(30 * time.Millisecond)
	c3 := resumeAs(t, url, bobHandle, tok, seen[len(seen)-1].Seq)
	ids = append(ids, <-posted...)
	seen = append(seen, c3.collect(len(ids)-len(seen))...)
	requireTweetPushes(t, seen, 1, ids)
	time.Sleep(100 * time.Millisecond)
	c3.noPushQueued()
}

func TestResumeTooOldGetsGapThenRetainedPushes(t *testing.T) {
	if testing.Short() {
		t.Skip("posts more than the retained 800 pushes")
	}
	url := startStack(t, nil)
	alice := signup(t, url, "alice")
	bobHandle := newHandle("bob")
	bob := dial(t, url)
	bob.handle = bobHandle
	tok := tokenOf(t, bob.ok("signup", map[string]any{"handle": bobHandle, "password": testPassword}))
	bob.follow(alice.handle)
	bob.Close()
	const n = 805
	var last string
	for i := 0; i < n; i++ {
		last = alice.post(fmt.Sprintf("t%d", i)).ID
	}
	back := resumeAs(t, url, bobHandle, tok, 1)
	gap := back.nextPush()
	if gap.Kind != "gap" || gap.Seq != n-800 {
		t.Fatalf("first push after an old since: %s seq %d, want gap seq %d", gap.Kind, gap.Seq, n-800)
	}
	got := back.collect(800)
	if got[0].Seq != n-799 || got[799].Seq != n || got[799].TweetID != last {
		t.Fatalf("retained pushes run %d..%d (last %s), want %d..%d (last %s)", got[0].Seq, got[799].Seq, got[799].TweetID, n-799, n, last)
	}
}

func TestResumeAheadOfNewestSeqIsInvalid(t *testing.T) {
	url := startStack(t, nil)
	c := dial(t, url)
	c.handle = newHandle("carol")
	tok := tokenOf(t, c.ok("signup", map[string]any{"handle": c.handle, "password": testPassword}))
	c.post("one")
	c.nextPush()
	d := dial(t, url)
	d.fail("invalid", "auth", map[string]any{"token": tok, "since": 2})
	// The failed resume left d unauthenticated, and usable.
	d.fail("unauthenticated", "post", map[string]any{"text": "x"})
	d.ok("auth", map[string]any{"token": tok, "since": 1})
	d.fail("bad_request", "auth", map[string]any{"token": tok, "since": -1})
}

func TestSocketOpenedAfterAPushDoesNotGetItLive(t *testing.T) {
	url := startStack(t, nil)
	alice := signup(t, url, "alice")
	bob := dial(t, url)
	bob.handle = newHandle("bob")
	tok := tokenOf(t, bob.ok("signup", map[string]any{"handle": bob.handle, "password": testPassword}))
	bob.follow(alice.handle)
	tw := alice.post("first")
	bob.nextTweetPush(tw.ID)
	tab := dial(t, url)
	tab.handle = bob.handle
	tab.ok("auth", map[string]any{"token": tok})
	tw2 := alice.post("second")
	bob.nextTweetPush(tw2.ID)
	tab.nextTweetPush(tw2.ID) // only the one after it opened
	tab.Close()
	tw3 := alice.post("third")
	bob.nextTweetPush(tw3.ID) // closing one tab leaves the other alone
	time.Sleep(100 * time.Millisecond)
	bob.noPushQueued()
}
