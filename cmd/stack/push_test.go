package stack_test

import (
	"fmt"
	"testing"

	"chirp/cmd/loadcheck"
)

// Live pushes: who gets which, in what order, and what is never pushed.

// seqs checks that a push's seq is above the last one seen on that socket.
type seqs struct {
	t    *testing.T
	last map[*client]int64
}

func newSeqs(t *testing.T) *seqs { return &seqs{t: t, last: map[*client]int64{}} }

func (s *seqs) check(c *client, p loadcheck.Push) loadcheck.Push {
	s.t.Helper()
	if p.Seq <= s.last[c] {
		s.t.Errorf("%s: push seq %d after %d; seq must only increase", c.handle, p.Seq, s.last[c])
	}
	s.last[c] = p.Seq
	return p
}

func TestFollowerOnlineGetsEachNewTweetInOrderWithIncreasingSeq(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "poster")
	follower := signup(t, url, "watcher")
	follower.follow(author.handle)
	s := newSeqs(t)
	var posted []loadcheck.Tweet
	for i := range 5 {
		posted = append(posted, author.post(fmt.Sprintf("tweet %d", i)))
	}
	for _, tw := range posted {
		p := s.check(follower, follower.nextTweetPush(tw.ID))
		if *p.Tweet != tw {
			t.Errorf("pushed tweet %+v, want %+v", *p.Tweet, tw)
		}
	}
	follower.noPushQueued()
}

func TestOwnTweetsArePushedToo(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "selfie")
	s := newSeqs(t)
	tw1 := a.post("first")
	tw2 := a.post("second")
	s.check(a, a.nextTweetPush(tw1.ID))
	p := s.check(a, a.nextTweetPush(tw2.ID))
	checkTweet(t, *p.Tweet, a.handle, "second", 0)
}

func TestBackfilledTweetsAreNotPushed(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "archive")
	old1, old2 := author.post("old 1"), author.post("old 2")
	follower := signup(t, url, "latecomer")
	follower.follow(author.handle)
	sameIDs(t, "feed after follow", follower.feedIDs(), []string{old2.ID, old1.ID})
	// The first push the follower sees is the first tweet after the follow.
	fresh := author.post("new")
	follower.nextTweetPush(fresh.ID)
	follower.noPushQueued()
}

func TestNonFollowersGetNoPush(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "loud")
	bystander := signup(t, url, "quiet")
	author.post("not for you")
	author.post("nor this")
	// Pushes of one account arrive in order: once the bystander's own tweet
	// arrives, anything meant for it earlier would have arrived too.
	own := bystander.post("mine")
	bystander.nextTweetPush(own.ID)
	bystander.noPushQueued()
}

func TestOfflineAccountsAreNotPushedButTheirFeedsFillUp(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "speaker")
	follower := signup(t, url, "sleeper")
	follower.follow(author.handle)
	token := func() string {
		c := dial(t, url)
		var tok string
		if err := c.ok("login", map[string]any{"handle": follower.handle, "password": testPassword}).Decode("token", &tok); err != nil {
			t.Fatal(err)
		}
		c.Close()
		return tok
	}()
	follower.Close()
	missed := author.post("while you were away")

	back := dial(t, url)
	back.handle = follower.handle
	back.ok("auth", map[string]any{"token": token})
	sameIDs(t, "feed after coming back", back.feedIDs(), []string{missed.ID})
	live := author.post("welcome back")
	back.nextTweetPush(live.ID)
	back.noPushQueued()
}

func TestEverySocketOfAnAccountGetsThePush(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "broadcaster")
	phone := signup(t, url, "multi")
	phone.follow(author.handle)
	tab := dial(t, url)
	tab.handle = phone.handle
	tab.ok("login", map[string]any{"handle": phone.handle, "password": testPassword})

	tw := author.post("to both")
	p1, p2 := phone.nextTweetPush(tw.ID), tab.nextTweetPush(tw.ID)
	if p1.Seq != p2.Seq {
		t.Errorf("the same push has seq %d on one socket and %d on the other", p1.Seq, p2.Seq)
	}
	// Closing one socket does not stop the other's pushes.
	tab.Close()
	tw2 := author.post("to the phone")
	phone.nextTweetPush(tw2.ID)
}

func TestLikesArePushedToEveryoneWhoseFeedHasTheTweet(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "liked")
	follower := signup(t, url, "liker")
	stranger := signup(t, url, "drive_by")
	follower.follow(author.handle)
	s := newSeqs(t)
	tw := author.post("like this")
	s.check(author, author.nextTweetPush(tw.ID))
	s.check(follower, follower.nextTweetPush(tw.ID))

	wantLikes := func(c *client, n int64) {
		t.Helper()
		p := s.check(c, c.nextPush())
		if p.Kind != "likes" || p.TweetID != tw.ID || p.Likes != n {
			t.Fatalf("%s: got %s push of %s with likes %d, want likes push of %s with %d", c.handle, p.Kind, p.TweetID, p.Likes, tw.ID, n)
		}
	}
	follower.like(tw.ID)
	wantLikes(author, 1)
	wantLikes(follower, 1)

	// Liking twice changes no count, so nothing is pushed: the next push
	// each socket sees is the next tweet.
	follower.like(tw.ID)
	tw2 := author.post("next")
	s.check(author, author.nextTweetPush(tw2.ID))
	s.check(follower, follower.nextTweetPush(tw2.ID))

	// A like by an account without the tweet in its feed reaches the
	// feeds that have it, not the liker.
	if n := stranger.like(tw.ID); n != 2 {
		t.Fatalf("stranger's like: %d likes, want 2", n)
	}
	wantLikes(author, 2)
	wantLikes(follower, 2)
	own := stranger.post("mine")
	stranger.nextTweetPush(own.ID)
	stranger.noPushQueued()
	author.noPushQueued()
	follower.noPushQueued()
}

func TestEveryFollowReplyComesAfterItsBackfill(t *testing.T) {
	url := startStack(t, nil)
	reader := signup(t, url, "reader")
	var want []string
	for i := range 6 {
		author := signup(t, url, fmt.Sprintf("author%d", i))
		var mine []string
		for j := range 3 {
			mine = append(mine, author.post(fmt.Sprintf("%d.%d", i, j)).ID)
		}
		reader.follow(author.handle)
		// Newest first: this author's tweets are newer than all before.
		want = append([]string{mine[2], mine[1], mine[0]}, want...)
		sameIDs(t, fmt.Sprintf("feed right after follow %d", i), reader.feedIDs(), want)
	}
}
