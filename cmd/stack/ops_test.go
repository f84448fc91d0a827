package stack_test

import (
	"strings"
	"testing"

	"chirp/cmd/loadcheck"
)

// One test per operation of protocol v1, each against a real stack.

func TestSignupActsAsTheNewAccountAndReturnsAToken(t *testing.T) {
	url := startStack(t, nil)
	c := dial(t, url)
	c.handle = newHandle("Alice")
	rep := c.ok("signup", map[string]any{"handle": c.handle, "password": testPassword})
	var user struct{ Handle string }
	var token string
	if err := rep.Decode("user", &user); err != nil || user.Handle != c.handle {
		t.Fatalf("signup user = %+v (%v), want handle %q", user, err, c.handle)
	}
	if err := rep.Decode("token", &token); err != nil || token == "" {
		t.Fatalf("signup token: %v", err)
	}
	// The connection now acts as the account: a post is authored by it.
	tw := c.post("hello")
	checkTweet(t, tw, c.handle, "hello", 0)
}

func TestLoginIgnoresHandleCaseAndAnswersWithTheSignupHandle(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "Bob")
	c := dial(t, url)
	rep := c.ok("login", map[string]any{"handle": strings.ToUpper(a.handle), "password": testPassword})
	var user struct{ Handle string }
	var token string
	if err := rep.Decode("user", &user); err != nil || user.Handle != a.handle {
		t.Fatalf("login user = %+v (%v), want %q", user, err, a.handle)
	}
	if err := rep.Decode("token", &token); err != nil || token == "" {
		t.Fatalf("login token: %v", err)
	}
	c.handle = a.handle
	checkTweet(t, c.post("via login"), a.handle, "via login", 0)
}

func TestAuthWithATokenActsAsItsAccountOnAnotherConnection(t *testing.T) {
	url := startStack(t, nil)
	a := dial(t, url)
	a.handle = newHandle("carol")
	var token string
	rep := a.ok("signup", map[string]any{"handle": a.handle, "password": testPassword})
	if err := rep.Decode("token", &token); err != nil {
		t.Fatal(err)
	}
	b := dial(t, url)
	b.handle = a.handle
	rep = b.ok("auth", map[string]any{"token": token})
	var user struct{ Handle string }
	if err := rep.Decode("user", &user); err != nil || user.Handle != a.handle {
		t.Fatalf("auth user = %+v (%v), want %q", user, err, a.handle)
	}
	tw := b.post("from the second socket")
	checkTweet(t, tw, a.handle, "from the second socket", 0)
	sameIDs(t, "feed read on the first socket", a.feedIDs(), []string{tw.ID})
}

func TestPostReturnsTheTweetAndPutsItInTheAuthorsFeed(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "dave")
	text := "280 code points: " + strings.Repeat("é", 280-17)
	tw := a.post(text)
	checkTweet(t, tw, a.handle, text, 0)
	// Read your writes: the reply came, so the author's feed has it.
	tweets, next := a.feedPage(nil)
	if len(tweets) != 1 || next != "" {
		t.Fatalf("feed = %d tweets, next %q; want 1 and no next", len(tweets), next)
	}
	if tweets[0] != tw {
		t.Errorf("feed tweet %+v, want the posted %+v", tweets[0], tw)
	}
	tw2 := a.post("second")
	if tw2.ID == tw.ID || tw2.ID <= tw.ID {
		t.Errorf("second tweet id %q is not a new id after %q", tw2.ID, tw.ID)
	}
}

func TestFollowBackfillsExistingTweets(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "erin")
	reader := signup(t, url, "frank")
	t1, t2, t3 := author.post("one"), author.post("two"), author.post("three")
	own := reader.post("mine")

	reader.follow(author.handle)
	// The follow reply comes after the backfill: no waiting needed.
	sameIDs(t, "feed right after follow", reader.feedIDs(), []string{own.ID, t3.ID, t2.ID, t1.ID})
	// The author's own feed does not change.
	sameIDs(t, "author's feed", author.feedIDs(), []string{t3.ID, t2.ID, t1.ID})
}

func TestFollowAgainIsOKAndChangesNothing(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "gina")
	reader := signup(t, url, "hank")
	tw := author.post("once")
	reader.follow(author.handle)
	reader.follow(strings.ToUpper(author.handle)) // same account, other case
	sameIDs(t, "feed after following twice", reader.feedIDs(), []string{tw.ID})
	// A new tweet arrives once, not once per follow.
	tw2 := author.post("twice?")
	reader.nextTweetPush(tw2.ID)
	sameIDs(t, "feed", reader.feedIDs(), []string{tw2.ID, tw.ID})
	reader.noPushQueued()
}

func TestLikeCountsEachAccountOnce(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "ivy")
	fan := signup(t, url, "jack")
	tw := author.post("like me")
	if n := fan.like(tw.ID); n != 1 {
		t.Errorf("first like: likes %d, want 1", n)
	}
	if n := fan.like(tw.ID); n != 1 {
		t.Errorf("liking twice: likes %d, want 1", n)
	}
	if n := author.like(tw.ID); n != 2 {
		t.Errorf("author's like: likes %d, want 2", n)
	}
	tweets, _ := author.feedPage(nil)
	if len(tweets) != 1 || tweets[0].Likes != 2 {
		t.Errorf("feed = %+v, want the tweet with 2 likes", tweets)
	}
	// The fan does not follow the author; liking needs no follow.
	if got := fan.feedIDs(); len(got) != 0 {
		t.Errorf("fan's feed = %v, want empty", got)
	}
}

func TestFeedPagesNewestFirstWithBeforeCursor(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "kim")
	var posted []loadcheck.Tweet
	for i := range 5 {
		posted = append(posted, a.post("tweet "+string(rune('a'+i))))
	}
	want := []string{posted[4].ID, posted[3].ID, posted[2].ID, posted[1].ID, posted[0].ID}

	var got []string
	cursor, pages := "", 0
	for {
		fields := map[string]any{"limit": 2}
		if cursor != "" {
			fields["before"] = cursor
		}
		tweets, next := a.feedPage(fields)
		pages++
		if len(tweets) > 2 {
			t.Fatalf("page %d has %d tweets for limit 2", pages, len(tweets))
		}
		got = append(got, ids(tweets)...)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("more pages than tweets")
		}
		cursor = next
	}
	sameIDs(t, "paged feed", got, want)
	if pages != 3 {
		t.Errorf("%d pages, want 3 (2+2+1)", pages)
	}

	// No limit means the default (50): one page, no next.
	tweets, next := a.feedPage(nil)
	sameIDs(t, "default page", ids(tweets), want)
	if next != "" {
		t.Errorf("default page has next %q", next)
	}
	// Limits 1 and 200 are the bounds of what is allowed.
	if tweets, next := a.feedPage(map[string]any{"limit": 1}); len(tweets) != 1 || next == "" {
		t.Errorf("limit 1: %d tweets, next %q", len(tweets), next)
	}
	if tweets, _ := a.feedPage(map[string]any{"limit": 200}); len(tweets) != 5 {
		t.Errorf("limit 200: %d tweets", len(tweets))
	}
}

func TestEmptyFeedIsAnEmptyListWithoutNext(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "lee")
	rep := a.ok("feed", nil)
	if string(rep.Fields["tweets"]) != "[]" || rep.Has("next") {
		t.Errorf("empty feed reply fields %v", rep.Fields)
	}
}
