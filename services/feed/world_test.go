package feed

import (
	"encoding/base64"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"chirp/contract"
)

// ---- inputs and expected effects ----

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// at is the tweet time ms milliseconds after t0.
func at(ms int) string { return contract.FormatTime(t0.Add(time.Duration(ms) * time.Millisecond)) }

// tw is author's n-th tweet, accepted ms milliseconds after t0.
func tw(author string, n uint64, ms int) contract.Tweet {
	return contract.Tweet{
		ID:     contract.TweetID(contract.Key(author), n),
		Author: author,
		Text:   fmt.Sprintf("%s says %d", author, n),
		At:     at(ms),
	}
}

// withLikes returns t showing n likes.
func withLikes(t contract.Tweet, n int) contract.Tweet { t.Likes = n; return t }

func posted(t contract.Tweet) Posted { return Posted{Meta: Meta{Reply: "post." + t.ID}, Tweet: t} }

func liked(id string, n int) Liked {
	return Liked{Meta: Meta{Reply: "like." + id}, Tweet: id, Likes: n}
}

func followed(follower, followee string) Followed {
	return Followed{Meta: Meta{Reply: "follow." + follower}, Follower: follower, Followee: followee}
}

func online(handle, gateway string) Presence {
	return Presence{Handle: handle, Gateway: gateway, Online: true}
}

func offline(handle, gateway string) Presence { return Presence{Handle: handle, Gateway: gateway} }

func started(gateway string) GatewayStarted { return GatewayStarted{Gateway: gateway} }

func read(user string, limit int, before string) Read {
	return Read{Reply: "read." + user, User: user, Limit: limit, Before: before}
}

func postReply(t contract.Tweet) Respond {
	return Respond{To: "post." + t.ID, Body: contract.TweetReply{OK: true, Tweet: t}}
}

func likeReply(id string, n int) Respond {
	return Respond{To: "like." + id, Body: contract.LikesReply{OK: true, Likes: n}}
}

func followReply(follower string) Respond {
	return Respond{To: "follow." + follower, Body: contract.EmptyReply{OK: true}}
}

func page(user string, next string, tweets ...contract.Tweet) Respond {
	if tweets == nil {
		tweets = []contract.Tweet{}
	}
	return Respond{To: "read." + user, Body: contract.FeedReply{OK: true, Tweets: tweets, Next: next}}
}

func cursorOf(t contract.Tweet) string { return EncodeCursor(t.At, t.ID) }

// ---- helpers ----

// world returns a new world that has stepped through ins.
func world(ins ...Input) *World {
	w := New()
	run(w, ins...)
	return w
}

func run(w *World, ins ...Input) {
	for _, in := range ins {
		w.Step(in)
	}
}

// posts returns the Posted inputs of tweets.
func posts(tweets ...contract.Tweet) []Input {
	var out []Input
	for _, t := range tweets {
		out = append(out, posted(t))
	}
	return out
}

// series is author's tweets number from..to, one per millisecond from ms.
func series(author string, from, to uint64, ms int) []contract.Tweet {
	var out []contract.Tweet
	for n := from; n <= to; n++ {
		out = append(out, tw(author, n, ms+int(n-from)))
	}
	return out
}

// newestFirst returns the tweets in reverse order.
func newestFirst(tweets []contract.Tweet) []contract.Tweet {
	out := slices.Clone(tweets)
	slices.Reverse(out)
	return out
}

func ids(tweets []contract.Tweet) []string {
	out := []string{}
	for _, t := range tweets {
		out = append(out, t.ID)
	}
	return out
}

func wantEffects(t *testing.T, got []Effect, want ...Effect) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("effects:\n got  %#v\n want %#v", got, want)
	}
}

// readPage steps a Read and returns the page, failing on an error reply.
func readPage(t *testing.T, w *World, user string, limit int, before string) contract.FeedReply {
	t.Helper()
	got := w.Step(read(user, limit, before))
	if len(got) != 1 {
		t.Fatalf("read effects = %#v", got)
	}
	body, ok := got[0].(Respond).Body.(contract.FeedReply)
	if !ok || !body.OK || body.Tweets == nil {
		t.Fatalf("read reply = %#v", got[0])
	}
	return body
}

// readAll pages through user's feed limit tweets at a time and checks the
// paging contract: full pages while Next is set, Next absent at the end.
func readAll(t *testing.T, w *World, user string, limit int) []contract.Tweet {
	t.Helper()
	per := limit
	if per == 0 {
		per = contract.FeedDefaultLim
	}
	var all []contract.Tweet
	before := ""
	for pages := 0; ; pages++ {
		if pages > contract.FeedCap+1 {
			t.Fatalf("read %s: paging does not end", user)
		}
		p := readPage(t, w, user, limit, before)
		all = append(all, p.Tweets...)
		if p.Next == "" {
			if len(p.Tweets) > per {
				t.Fatalf("read %s: last page has %d tweets, limit %d", user, len(p.Tweets), per)
			}
			return all
		}
		if len(p.Tweets) != per {
			t.Fatalf("read %s: page with next has %d tweets, limit %d", user, len(p.Tweets), per)
		}
		before = p.Next
	}
}

// wantFeed checks user's feed, newest first, through Feed and through
// Read pages of several sizes.
func wantFeed(t *testing.T, w *World, user string, want ...contract.Tweet) {
	t.Helper()
	if want == nil {
		want = []contract.Tweet{}
	}
	if got := w.Feed(user); !slices.Equal(got, ids(want)) {
		t.Fatalf("Feed(%s) = %v\n want %v", user, got, ids(want))
	}
	for _, limit := range []int{0, 1, 3, contract.FeedMaxLimit} {
		if got := readAll(t, w, user, limit); !slices.Equal(got, want) {
			t.Fatalf("read %s limit %d = %v\n want %v", user, limit, got, want)
		}
	}
}

// ---- posts and follows ----

func TestPostAnswersWithTheTweet(t *testing.T) {
	a1 := tw("Alice", 1, 1)
	wantEffects(t, New().Step(posted(a1)), postReply(a1))
}

func TestPostEntersAuthorAndFollowerFeeds(t *testing.T) {
	a1, a2, b1 := tw("Alice", 1, 1), tw("Alice", 2, 3), tw("bob", 1, 2)
	w := world(followed("bob", "Alice"), followed("carol", "bob"))
	run(w, posts(a1, b1, a2)...)
	wantFeed(t, w, "alice", a2, a1)
	wantFeed(t, w, "bob", a2, b1, a1)
	wantFeed(t, w, "carol", b1)
	wantFeed(t, w, "dave")
}

func TestFollowBackfillsExistingTweets(t *testing.T) {
	a1, b1, a2, b2 := tw("alice", 1, 1), tw("bob", 1, 2), tw("alice", 2, 3), tw("bob", 2, 4)
	w := world(online("bob", "g1"), online("alice", "g1"))
	run(w, posts(a1, b1, a2, b2)...)
	// Backfill answers the follow and pushes nothing, online or not.
	wantEffects(t, w.Step(followed("Bob", "ALICE")), followReply("Bob"))
	wantFeed(t, w, "bob", b2, a2, b1, a1)
	wantFeed(t, w, "alice", a2, a1)
	// Tweets after the follow are delivered as usual.
	a3 := tw("alice", 3, 5)
	run(w, posted(a3))
	wantFeed(t, w, "bob", a3, b2, a2, b1, a1)
}

func TestFollowAgainChangesNothing(t *testing.T) {
	setup := append([]Input{online("bob", "g"), followed("bob", "alice")}, posts(tw("alice", 1, 1))...)
	w, twin := world(setup...), world(setup...)
	for _, f := range []Followed{followed("bob", "alice"), followed("BOB", "Alice")} {
		wantEffects(t, w.Step(f), followReply(f.Follower))
	}
	if !reflect.DeepEqual(w, twin) {
		t.Fatal("a repeated follow changed the world")
	}
	// Bob is still a follower once: one push, one copy in his feed.
	a2 := tw("alice", 2, 2)
	wantEffects(t, w.Step(posted(a2)), postReply(a2), PushTweet{Keys: []string{"bob"}, Seqs: []uint64{2}, Tweet: a2})
	wantFeed(t, w, "bob", a2, tw("alice", 1, 1))
}

func TestFollowYourselfChangesNothing(t *testing.T) {
	// The user service rejects it; should one arrive anyway, it is answered
	// and ignored: no second copy of one's own tweets, no second push.
	setup := append([]Input{online("alice", "g")}, posts(tw("alice", 1, 1))...)
	w, twin := world(setup...), world(setup...)
	wantEffects(t, w.Step(followed("alice", "ALICE")), followReply("alice"))
	if !reflect.DeepEqual(w, twin) {
		t.Fatal("following yourself changed the world")
	}
	a2 := tw("alice", 2, 2)
	wantEffects(t, w.Step(posted(a2)), postReply(a2), PushTweet{Keys: []string{"alice"}, Seqs: []uint64{2}, Tweet: a2})
	wantFeed(t, w, "alice", a2, tw("alice", 1, 1))
}

func TestDuplicatePostedIsAnsweredButNotDeliveredAgain(t *testing.T) {
	a1 := tw("alice", 1, 1)
	w := world(online("alice", "g"), followed("bob", "alice"), online("bob", "g"))
	wantEffects(t, w.Step(posted(a1)), postReply(a1), PushTweet{Keys: []string{"alice", "bob"}, Seqs: []uint64{1, 1}, Tweet: a1})
	wantEffects(t, w.Step(posted(a1)), postReply(a1))
	wantFeed(t, w, "alice", a1)
	wantFeed(t, w, "bob", a1)
}

func TestPostedWithoutIDOnlyAnswers(t *testing.T) {
	bad := tw("alice", 1, 1)
	bad.ID = ""
	w, twin := world(online("alice", "g")), world(online("alice", "g"))
	wantEffects(t, w.Step(posted(bad)), postReply(bad))
	if !reflect.DeepEqual(w, twin) {
		t.Fatal("a Posted without id changed the world")
	}
}

// ---- order and capacity ----

func TestTiesBrokenByIDDescending(t *testing.T) {
	// All at one millisecond; ids compare as bytes: "a1-" < "a_-" < "aa-"
	// < "reader-" and, within an author, by zero-padded number.
	same := 5
	x := []contract.Tweet{
		tw("aa", 1, same), tw("a1", 1, same), tw("a_", 1, same),
		tw("reader", 9, same), tw("reader", 10, same),
	}
	w := world(followed("reader", "aa"), followed("reader", "a1"), followed("reader", "a_"))
	run(w, posts(x...)...)
	older, newer := tw("zz", 1, same-1), tw("a1", 2, same+1)
	run(w, followed("reader", "zz"))
	run(w, posts(older, newer)...)
	wantFeed(t, w, "reader",
		newer, // a1-00000002 at 6
		x[4],  // reader-00000010 at 5
		x[3],  // reader-00000009
		x[0],  // aa-00000001
		x[2],  // a_-00000001
		x[1],  // a1-00000001
		older, // zz-00000001 at 4
	)
}

func TestLateTweetIsPlacedByAt(t *testing.T) {
	a1, a2, b1 := tw("alice", 1, 10), tw("alice", 2, 30), tw("bob", 1, 20)
	late := tw("bob", 2, 5) // accepted before a1 but delivered last
	w := world(followed("alice", "bob"), online("alice", "g"))
	run(w, posts(a1, a2, b1)...)
	wantEffects(t, w.Step(posted(late)), postReply(late), PushTweet{Keys: []string{"alice"}, Seqs: []uint64{4}, Tweet: late})
	wantFeed(t, w, "alice", a2, b1, a1, late)
	wantFeed(t, w, "bob", b1, late)
}

func TestFeedKeepsNewest800(t *testing.T) {
	// Bob follows alice (805 tweets) and carol (5 tweets, interleaved).
	alice := series("alice", 1, 805, 1000)
	carol := []contract.Tweet{tw("carol", 1, 1), tw("carol", 2, 1500), tw("carol", 3, 1600), tw("carol", 4, 1700), tw("carol", 5, 3000)}
	w := world(followed("bob", "alice"), followed("bob", "carol"))
	run(w, posts(alice...)...)
	run(w, posts(carol...)...)

	all := append(slices.Clone(alice), carol...)
	slices.SortFunc(all, func(a, b contract.Tweet) int { return strings.Compare(b.At+b.ID, a.At+a.ID) })
	wantFeed(t, w, "bob", all[:contract.FeedCap]...)
	wantFeed(t, w, "alice", newestFirst(alice)[:contract.FeedCap]...)
	wantFeed(t, w, "carol", newestFirst(carol)...)

	// A follower arriving now gets the same newest 800 by backfill.
	run(w, followed("dave", "alice"), followed("dave", "carol"))
	wantFeed(t, w, "dave", all[:contract.FeedCap]...)
}

func TestFullFeedRefusesOlderTweetWithoutPush(t *testing.T) {
	alice := series("alice", 1, contract.FeedCap, 1000)
	w := world(followed("bob", "alice"), followed("bob", "carol"), online("bob", "g"), online("carol", "g"))
	run(w, posts(alice...)...)
	// Carol's tweet is older than all of bob's full feed: it enters only
	// carol's own feed, and only carol hears of it and of its likes.
	old := tw("carol", 1, 999)
	wantEffects(t, w.Step(posted(old)), postReply(old), PushTweet{Keys: []string{"carol"}, Seqs: []uint64{1}, Tweet: old})
	wantEffects(t, w.Step(liked(old.ID, 1)), likeReply(old.ID, 1), PushLikes{Keys: []string{"carol"}, Seqs: []uint64{2}, Tweet: old.ID, Likes: 1})
	wantFeed(t, w, "bob", newestFirst(alice)...)
	wantFeed(t, w, "carol", withLikes(old, 1))
	// Tied at with the oldest kept tweet but a smaller id: still older.
	tied := tw("a", 1, 1000)
	run(w, followed("bob", "a"))
	wantEffects(t, w.Step(posted(tied)), postReply(tied))
	wantFeed(t, w, "bob", newestFirst(alice)...)
}

func TestAuthorsOwnListKeepsNewest800(t *testing.T) {
	alice := series("alice", 1, contract.FeedCap+1, 1)
	dropped := alice[0]
	w := world(online("alice", "g"))
	run(w, posts(alice...)...)
	// The dropped tweet is in no feed: a like of it answers and pushes
	// nothing, and it cannot come back.
	wantEffects(t, w.Step(liked(dropped.ID, 1)), likeReply(dropped.ID, 1))
	wantEffects(t, w.Step(posted(dropped)), postReply(dropped))
	run(w, followed("bob", "alice"))
	wantFeed(t, w, "bob", newestFirst(alice[1:])...)
	wantFeed(t, w, "alice", newestFirst(alice[1:])...)
}

// ---- likes ----

func TestLikesPushGoesToFeedsHoldingTheTweet(t *testing.T) {
	a1 := tw("alice", 1, 1)
	w := world(followed("bob", "alice"), followed("dave", "alice"),
		online("alice", "g"), online("bob", "g"), online("carol", "g"))
	run(w, posted(a1)) // alice seq 1, bob seq 1; dave is offline
	run(w, followed("carol", "bob"))
	wantEffects(t, w.Step(liked(a1.ID, 1)),
		likeReply(a1.ID, 1),
		PushLikes{Keys: []string{"alice", "bob"}, Seqs: []uint64{2, 2}, Tweet: a1.ID, Likes: 1})
	// Counts are absolute: a drop is a change too.
	wantEffects(t, w.Step(liked(a1.ID, 0)),
		likeReply(a1.ID, 0),
		PushLikes{Keys: []string{"alice", "bob"}, Seqs: []uint64{3, 3}, Tweet: a1.ID, Likes: 0})
}

func TestUnchangedLikeCountPushesNothing(t *testing.T) {
	a1 := tw("alice", 1, 1)
	w := world(online("alice", "g"), posted(a1))
	wantEffects(t, w.Step(liked(a1.ID, 0)), likeReply(a1.ID, 0))
	run(w, liked(a1.ID, 2))
	wantEffects(t, w.Step(liked(a1.ID, 2)), likeReply(a1.ID, 2))
}

func TestLikeOfUnknownTweetOnlyAnswers(t *testing.T) {
	w, twin := world(online("alice", "g"), posted(tw("alice", 1, 1))), world(online("alice", "g"), posted(tw("alice", 1, 1)))
	for _, id := range []string{"alice-00000002", "ALICE-00000001", "nonsense", ""} {
		wantEffects(t, w.Step(liked(id, 3)), likeReply(id, 3))
	}
	if !reflect.DeepEqual(w, twin) {
		t.Fatal("a like of an unknown tweet changed the world")
	}
}

func TestLikeCountShowsInFeedsAndBackfill(t *testing.T) {
	a1, a2 := tw("alice", 1, 1), tw("alice", 2, 2)
	w := world(followed("bob", "alice"))
	run(w, posts(a1, a2)...)
	run(w, liked(a1.ID, 4), liked(a2.ID, 1), liked(a1.ID, 5))
	wantFeed(t, w, "alice", withLikes(a2, 1), withLikes(a1, 5))
	wantFeed(t, w, "bob", withLikes(a2, 1), withLikes(a1, 5))
	run(w, followed("carol", "alice"))
	wantFeed(t, w, "carol", withLikes(a2, 1), withLikes(a1, 5))
}

// ---- presence and pushes ----

func TestOnlineAccountsGetTweetPush(t *testing.T) {
	a1 := tw("Alice", 1, 1)
	w := world(
		followed("Bob", "Alice"), followed("dave", "Alice"),
		online("Alice", "g1"), online("BOB", "g2"), online("carol", "g1"),
	)
	// Own tweets too; carol follows nobody, dave is offline. Keys are
	// lower-cased handles.
	wantEffects(t, w.Step(posted(a1)), postReply(a1), PushTweet{Keys: []string{"alice", "bob"}, Seqs: []uint64{1, 1}, Tweet: a1})
}

func TestOfflineAccountsGetNoPush(t *testing.T) {
	a1, b1 := tw("alice", 1, 1), tw("bob", 1, 2)
	for _, tc := range []struct {
		name     string
		presence []Input
	}{
		{"never online", nil},
		{"went offline", []Input{online("alice", "g"), offline("alice", "g")}},
		{"went offline in other case", []Input{online("alice", "g"), offline("ALICE", "g")}},
		{"gateway restarted", []Input{online("alice", "g"), started("g")}},
		{"offline on every gateway", []Input{online("alice", "g1"), online("alice", "g2"), offline("alice", "g2"), offline("alice", "g1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := world(followed("alice", "bob"))
			run(w, tc.presence...)
			wantEffects(t, w.Step(posted(a1)), postReply(a1))
			wantEffects(t, w.Step(posted(b1)), postReply(b1))
			wantEffects(t, w.Step(liked(a1.ID, 1)), likeReply(a1.ID, 1))
			// The feed is kept all the same.
			wantFeed(t, w, "alice", b1, withLikes(a1, 1))
		})
	}
}

func TestPresenceOnTwoGatewaysNeedsBothOffline(t *testing.T) {
	w := world(online("alice", "g1"), online("alice", "g2"), offline("alice", "g1"))
	a1 := tw("alice", 1, 1)
	wantEffects(t, w.Step(posted(a1)), postReply(a1), PushTweet{Keys: []string{"alice"}, Seqs: []uint64{1}, Tweet: a1})
	// Offline on a gateway it was never on changes nothing either.
	run(w, offline("alice", "g3"))
	wantEffects(t, w.Step(liked(a1.ID, 1)), likeReply(a1.ID, 1), PushLikes{Keys: []string{"alice"}, Seqs: []uint64{2}, Tweet: a1.ID, Likes: 1})
	run(w, offline("alice", "g2"))
	wantEffects(t, w.Step(liked(a1.ID, 2)), likeReply(a1.ID, 2))
}

func TestGatewayStartedClearsPresence(t *testing.T) {
	a1 := tw("alice", 1, 1)
	w := world(
		followed("bob", "alice"), followed("carol", "alice"), followed("dave", "alice"),
		online("alice", "g1"), online("bob", "g1"), online("carol", "g2"),
		online("dave", "g1"), online("dave", "g2"),
	)
	if got := w.Step(started("g1")); got != nil {
		t.Fatalf("GatewayStarted effects = %#v", got)
	}
	// Only presence on g1 is forgotten: carol and dave are still on g2.
	wantEffects(t, w.Step(posted(a1)), postReply(a1), PushTweet{Keys: []string{"carol", "dave"}, Seqs: []uint64{1, 1}, Tweet: a1})
	// A restarted gateway's new sockets count again; other gateways are
	// not touched by a restart of an unknown one.
	run(w, online("bob", "g1"), started("g9"))
	a2 := tw("alice", 2, 2)
	// bob's seq counts the push he missed while offline.
	wantEffects(t, w.Step(posted(a2)), postReply(a2), PushTweet{Keys: []string{"bob", "carol", "dave"}, Seqs: []uint64{2, 2, 2}, Tweet: a2})
}

func TestPushSeqIncreasesAcrossKinds(t *testing.T) {
	a1, b1, a2 := tw("alice", 1, 1), tw("bob", 1, 2), tw("alice", 2, 3)
	w := world(followed("bob", "alice"), online("bob", "g"))
	steps := []struct {
		in   Input
		want []Effect
	}{
		{posted(a1), []Effect{postReply(a1), PushTweet{Keys: []string{"bob"}, Seqs: []uint64{1}, Tweet: a1}}},
		{liked(a1.ID, 1), []Effect{likeReply(a1.ID, 1), PushLikes{Keys: []string{"bob"}, Seqs: []uint64{2}, Tweet: a1.ID, Likes: 1}}},
		{posted(b1), []Effect{postReply(b1), PushTweet{Keys: []string{"bob"}, Seqs: []uint64{3}, Tweet: b1}}},
		{offline("bob", "g"), nil},
		// Offline: logged as seq 4 for a resume, not sent.
		{posted(a2), []Effect{postReply(a2)}},
		{online("bob", "g2"), nil},
		// Reconnecting continues the sequence; it never restarts.
		{liked(b1.ID, 1), []Effect{likeReply(b1.ID, 1), PushLikes{Keys: []string{"bob"}, Seqs: []uint64{5}, Tweet: b1.ID, Likes: 1}}},
		{started("g2"), nil},
		{online("bob", "g2"), nil},
		{liked(a2.ID, 7), []Effect{likeReply(a2.ID, 7), PushLikes{Keys: []string{"bob"}, Seqs: []uint64{6}, Tweet: a2.ID, Likes: 7}}},
	}
	for i, s := range steps {
		got := w.Step(s.in)
		if !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d %#v:\n got  %#v\n want %#v", i, s.in, got, s.want)
		}
	}
}

// ---- reading ----

func TestReadPagesWithCursorToTheEnd(t *testing.T) {
	x := series("alice", 1, 7, 1)
	w := world(posts(x...)...)
	wantEffects(t, w.Step(read("alice", 3, "")), page("alice", cursorOf(x[4]), x[6], x[5], x[4]))
	wantEffects(t, w.Step(read("alice", 3, cursorOf(x[4]))), page("alice", cursorOf(x[1]), x[3], x[2], x[1]))
	wantEffects(t, w.Step(read("alice", 3, cursorOf(x[1]))), page("alice", "", x[0]))
	// Past the end: an empty page, no next.
	wantEffects(t, w.Step(read("alice", 3, cursorOf(x[0]))), page("alice", ""))
}

func TestReadLastFullPageHasNoNext(t *testing.T) {
	x := series("alice", 1, 6, 1)
	w := world(posts(x...)...)
	wantEffects(t, w.Step(read("alice", 3, "")), page("alice", cursorOf(x[3]), x[5], x[4], x[3]))
	wantEffects(t, w.Step(read("alice", 3, cursorOf(x[3]))), page("alice", "", x[2], x[1], x[0]))
	wantEffects(t, w.Step(read("alice", 6, "")), page("alice", "", newestFirst(x)...))
}

func TestReadLimits(t *testing.T) {
	x := series("alice", 1, 250, 1)
	w := world(posts(x...)...)
	newest := newestFirst(x)
	for _, tc := range []struct{ limit, want int }{
		{0, contract.FeedDefaultLim},
		{1, 1},
		{49, 49},
		{contract.FeedMaxLimit, contract.FeedMaxLimit},
	} {
		want := newest[:tc.want]
		wantEffects(t, w.Step(read("alice", tc.limit, "")), page("alice", cursorOf(want[tc.want-1]), want...))
	}
	for _, limit := range []int{-1, -200, contract.FeedMaxLimit + 1, 1 << 40} {
		wantEffects(t, w.Step(read("alice", limit, "")),
			Respond{To: "read.alice", Body: contract.Fail(contract.CodeInvalid, "limit must be 1-200")})
	}
}

func TestReadRejectsBadCursor(t *testing.T) {
	w := world(posts(series("alice", 1, 3, 1)...)...)
	b64 := base64.RawURLEncoding.EncodeToString
	for _, tc := range []struct{ name, before string }{
		{"not base64", "!!!"},
		{"padded base64", EncodeCursor(at(1), "alice-00000001") + "="},
		{"standard alphabet", base64.StdEncoding.EncodeToString([]byte(at(1) + "|alice-00000001>?"))},
		{"no separator", b64([]byte(at(1) + "alice-00000001"))},
		{"empty at", b64([]byte("|alice-00000001"))},
		{"empty id", b64([]byte(at(1) + "|"))},
		{"just a separator", b64([]byte("|"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantEffects(t, w.Step(read("alice", 10, tc.before)),
				Respond{To: "read.alice", Body: contract.Fail(contract.CodeInvalid, "before is not a cursor from this feed")})
		})
	}
}

func TestReadUnknownUserIsEmptyPage(t *testing.T) {
	w := world(online("carol", "g"), posted(tw("alice", 1, 1)))
	// "tweets":[] rather than null, and no next.
	for _, user := range []string{"nobody", "carol"} {
		wantEffects(t, w.Step(read(user, 0, "")), page(user, ""))
		wantEffects(t, w.Step(read(user, 5, cursorOf(tw("alice", 1, 1)))), page(user, ""))
	}
	if got := w.Feed("nobody"); len(got) != 0 {
		t.Fatalf("Feed(nobody) = %v", got)
	}
}

func TestReadIgnoresHandleCase(t *testing.T) {
	a1 := tw("Alice", 1, 1)
	w := world(posted(a1))
	for _, user := range []string{"alice", "ALICE", "Alice"} {
		wantEffects(t, w.Step(read(user, 0, "")), page(user, "", a1))
	}
}

func TestReadCursorIsStableWhileFeedGrows(t *testing.T) {
	x := series("alice", 1, 6, 10) // at 10..15
	w := world(followed("alice", "aaron"), followed("alice", "bob"))
	run(w, posts(x...)...)
	first := readPage(t, w, "alice", 3, "")
	if first.Next != cursorOf(x[3]) {
		t.Fatalf("first page next = %q, want the cursor of %s", first.Next, x[3].ID)
	}
	// Tweets arriving between pages: newer ones, one tied with the cursor's
	// at with a larger id (newer) and one tied with a smaller id (older).
	tiedNewer, tiedOlder := tw("bob", 1, 13), tw("aaron", 1, 13)
	run(w, posts(tw("alice", 7, 100), tiedNewer, tiedOlder)...)
	wantEffects(t, w.Step(read("alice", 3, first.Next)), page("alice", cursorOf(x[1]), tiedOlder, x[2], x[1]))
	wantEffects(t, w.Step(read("alice", 3, cursorOf(x[1]))), page("alice", "", x[0]))
}

func TestCursorRoundTrip(t *testing.T) {
	for _, tc := range []struct{ at, id string }{
		{at(0), "alice-00000001"},
		{"2025-12-31T23:59:59.999Z", "a_b_c-12345678"},
	} {
		c := EncodeCursor(tc.at, tc.id)
		if strings.ContainsAny(c, "=+/") {
			t.Errorf("cursor %q is not URL-safe unpadded base64", c)
		}
		a, id, ok := DecodeCursor(c)
		if !ok || a != tc.at || id != tc.id {
			t.Errorf("DecodeCursor(EncodeCursor(%q, %q)) = %q, %q, %v", tc.at, tc.id, a, id, ok)
		}
	}
	if _, _, ok := DecodeCursor(""); ok {
		t.Error("empty cursor decodes")
	}
}

// ---- world-wide properties ----

func history() []Input {
	return append([]Input{
		followed("bob", "alice"), online("alice", "g1"), online("bob", "g2"),
	}, posts(tw("alice", 1, 1), tw("bob", 1, 2), tw("alice", 2, 3))...)
}

func TestRejectedInputChangesNothing(t *testing.T) {
	a1 := tw("alice", 1, 1)
	for _, tc := range []struct {
		name string
		in   Input
		want []Effect
	}{
		{"read with negative limit", read("bob", -1, ""),
			[]Effect{Respond{To: "read.bob", Body: contract.Fail(contract.CodeInvalid, "limit must be 1-200")}}},
		{"read with too large a limit", read("bob", 201, ""),
			[]Effect{Respond{To: "read.bob", Body: contract.Fail(contract.CodeInvalid, "limit must be 1-200")}}},
		{"read with bad cursor", read("bob", 1, "%%"),
			[]Effect{Respond{To: "read.bob", Body: contract.Fail(contract.CodeInvalid, "before is not a cursor from this feed")}}},
		{"read", read("bob", 2, ""),
			[]Effect{page("bob", cursorOf(tw("bob", 1, 2)), tw("alice", 2, 3), tw("bob", 1, 2))}},
		{"read of unknown account", read("zed", 0, ""), []Effect{page("zed", "")}},
		{"duplicate post", posted(a1), []Effect{postReply(a1)}},
		{"like of unknown tweet", liked("zed-00000001", 1), []Effect{likeReply("zed-00000001", 1)}},
		{"unchanged like count", liked(a1.ID, 0), []Effect{likeReply(a1.ID, 0)}},
		{"repeated follow", followed("bob", "alice"), []Effect{followReply("bob")}},
		{"follow yourself", followed("bob", "bob"), []Effect{followReply("bob")}},
		{"repeated presence", online("bob", "g2"), nil},
		{"restart of unknown gateway", started("g9"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, twin := world(history()...), world(history()...)
			wantEffects(t, w.Step(tc.in), tc.want...)
			if !reflect.DeepEqual(w, twin) {
				t.Fatal("the input changed the world")
			}
		})
	}
}

type bogusInput struct{}

func (bogusInput) isInput() {}

func TestUnknownInputIsIgnored(t *testing.T) {
	w, twin := world(history()...), world(history()...)
	if got := w.Step(bogusInput{}); got != nil {
		t.Fatalf("effects = %#v, want none", got)
	}
	if got := w.Step(nil); got != nil {
		t.Fatalf("effects = %#v, want none", got)
	}
	if !reflect.DeepEqual(w, twin) {
		t.Fatal("an unknown input changed the world")
	}
}

func TestStepIsDeterministic(t *testing.T) {
	script := randomScript(7, 30, 3000)
	for i := range 30 {
		script = append(script, read(fmt.Sprintf("user_%02d", i), i*7, ""))
	}
	runScript := func() [][]Effect {
		w := New()
		var out [][]Effect
		for _, in := range script {
			out = append(out, w.Step(in))
		}
		return out
	}
	a, b := runScript(), runScript()
	if !reflect.DeepEqual(a, b) {
		for i := range a {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Fatalf("runs differ at input %d %#v:\n%#v\n%#v", i, script[i], a[i], b[i])
			}
		}
		t.Fatal("runs differ")
	}
}

// ---- randomized model check ----

// randomScript is a seeded random sequence of inputs among accounts
// accounts: posts (a third by one busy author, so its own list overflows;
// many tied on at; some delivered late with an older at; some delivered
// twice), likes with absolute counts (repeats included), follows (repeats
// and self-follows included), presence and gateway restarts. Handles are
// mixed-case and spelled in any case where the world must ignore case.
func randomScript(seed int64, accounts, n int) []Input {
	rng := rand.New(rand.NewSource(seed))
	handles := make([]string, accounts)
	for i := range handles {
		handles[i] = fmt.Sprintf("User_%02d", i)
	}
	anyCase := func(h string) string {
		switch rng.Intn(3) {
		case 0:
			return strings.ToLower(h)
		case 1:
			return strings.ToUpper(h)
		}
		return h
	}
	gateway := func() string { return fmt.Sprintf("gw%d", rng.Intn(3)) }
	var (
		out    []Input
		tweets []contract.Tweet
		posted = make([]uint64, accounts)
		likes  = map[string]int{}
		clock  = 0
	)
	for len(out) < n {
		switch r := rng.Intn(100); {
		case r < 45: // a new tweet
			if rng.Intn(3) == 0 {
				clock++
			}
			ms := clock
			if rng.Intn(25) == 0 {
				ms -= rng.Intn(clock + 1)
			}
			a := rng.Intn(accounts)
			if rng.Intn(3) == 0 {
				a = 0
			}
			posted[a]++
			t := tw(handles[a], posted[a], ms)
			tweets = append(tweets, t)
			out = append(out, Posted{Tweet: t, Meta: Meta{Reply: "r"}})
		case r < 47 && len(tweets) > 0: // redelivery
			out = append(out, Posted{Tweet: tweets[rng.Intn(len(tweets))], Meta: Meta{Reply: "r"}})
		case r < 67 && len(tweets) > 0: // a like, often of a recent tweet
			i := rng.Intn(len(tweets))
			if rng.Intn(2) == 0 {
				i = len(tweets) - 1 - rng.Intn(min(50, len(tweets)))
			}
			id := tweets[i].ID
			likes[id] += rng.Intn(2)
			out = append(out, Liked{Tweet: id, Likes: likes[id], By: anyCase(handles[rng.Intn(accounts)]), Meta: Meta{Reply: "r"}})
		case r < 68:
			out = append(out, Liked{Tweet: "nobody-00000001", Likes: 1, Meta: Meta{Reply: "r"}})
		case r < 78:
			a, b := rng.Intn(accounts), rng.Intn(accounts)
			out = append(out, Followed{Follower: anyCase(handles[a]), Followee: anyCase(handles[b]), Meta: Meta{Reply: "r"}})
		case r < 98:
			out = append(out, Presence{Handle: anyCase(handles[rng.Intn(accounts)]), Gateway: gateway(), Online: rng.Intn(5) < 3})
		default:
			out = append(out, GatewayStarted{Gateway: gateway()})
		}
	}
	return out
}

// model is the feed world computed from the definitions, with no
// timelines: feed(U) is sorted from all of U's candidate tweets each time.
type model struct {
	following map[string]map[string]bool  // key -> followee keys
	byAuthor  map[string][]contract.Tweet // key -> tweets posted
	tweets    map[string]contract.Tweet   // id -> tweet
	likes     map[string]int              // id -> current count
	gateways  map[string]map[string]bool  // key -> gateways it is on
	seq       map[string]uint64           // key -> last push seq
	keys      []string                    // every key seen, sorted
}

func newModel() *model {
	return &model{
		following: map[string]map[string]bool{},
		byAuthor:  map[string][]contract.Tweet{},
		tweets:    map[string]contract.Tweet{},
		likes:     map[string]int{},
		gateways:  map[string]map[string]bool{},
		seq:       map[string]uint64{},
	}
}

// newer is the feed order: at descending, then id as bytes descending.
func newer(a, b contract.Tweet) bool { return a.At > b.At || a.At == b.At && a.ID > b.ID }

func (m *model) see(key string) {
	if i, found := slices.BinarySearch(m.keys, key); !found {
		m.keys = slices.Insert(m.keys, i, key)
	}
}

// candidates are the tweets whose author is key or an account key follows.
func (m *model) candidates(key string) []contract.Tweet {
	out := slices.Clone(m.byAuthor[key])
	for f := range m.following[key] {
		out = append(out, m.byAuthor[f]...)
	}
	return out
}

// feed is key's newest FeedCap candidates, newest first, with like counts.
func (m *model) feed(key string) []contract.Tweet {
	c := m.candidates(key)
	slices.SortFunc(c, func(a, b contract.Tweet) int {
		if newer(a, b) {
			return -1
		}
		return 1
	})
	c = c[:min(len(c), contract.FeedCap)]
	for i := range c {
		c[i].Likes = m.likes[c[i].ID]
	}
	return c
}

// inFeed reports whether t is in key's feed: a candidate with fewer than
// FeedCap newer candidates.
func (m *model) inFeed(key string, t contract.Tweet) bool {
	a := contract.Key(t.Author)
	if a != key && !m.following[key][a] {
		return false
	}
	n := 0
	count := func(author string) {
		for _, c := range m.byAuthor[author] {
			if newer(c, t) {
				n++
			}
		}
	}
	count(key)
	for f := range m.following[key] {
		count(f)
	}
	return n < contract.FeedCap
}

// pushTo advances the seq of every account whose feed holds t and returns
// the online ones, sorted, with their seqs.
func (m *model) pushTo(t contract.Tweet) (keys []string, seqs []uint64) {
	for _, k := range m.keys {
		if !m.inFeed(k, t) {
			continue
		}
		m.seq[k]++
		if len(m.gateways[k]) > 0 {
			keys = append(keys, k)
			seqs = append(seqs, m.seq[k])
		}
	}
	return keys, seqs
}

// step applies in and returns the effects the world must emit, pushes
// with keys sorted.
func (m *model) step(in Input) []Effect {
	switch in := in.(type) {
	case Posted:
		out := []Effect{Respond{To: in.Reply, Body: contract.TweetReply{OK: true, Tweet: in.Tweet}}}
		t := in.Tweet
		if cur, dup := m.tweets[t.ID]; dup {
			// A retry is answered with the tweet as it is now, if the
			// author's newest FeedCap still hold it (the world keeps no
			// older ones); else as the retry carries it.
			newer := 0
			for _, o := range m.byAuthor[contract.Key(t.Author)] {
				if older(&entry{t: cur}, &entry{t: o}) {
					newer++
				}
			}
			if newer >= contract.FeedCap {
				return out
			}
			cur.Likes = m.likes[t.ID]
			return []Effect{Respond{To: in.Reply, Body: contract.TweetReply{OK: true, Tweet: cur}}}
		}
		a := contract.Key(t.Author)
		m.see(a)
		m.tweets[t.ID] = t
		m.byAuthor[a] = append(m.byAuthor[a], t)
		if keys, seqs := m.pushTo(t); keys != nil {
			out = append(out, PushTweet{Keys: keys, Seqs: seqs, Tweet: t})
		}
		return out
	case Liked:
		out := []Effect{Respond{To: in.Reply, Body: contract.LikesReply{OK: true, Likes: in.Likes}}}
		t, ok := m.tweets[in.Tweet]
		if !ok || m.likes[in.Tweet] == in.Likes {
			return out
		}
		m.likes[in.Tweet] = in.Likes
		if keys, seqs := m.pushTo(t); keys != nil {
			out = append(out, PushLikes{Keys: keys, Seqs: seqs, Tweet: in.Tweet, Likes: in.Likes})
		}
		return out
	case Followed:
		f, e := contract.Key(in.Follower), contract.Key(in.Followee)
		m.see(f)
		m.see(e)
		if f != e {
			if m.following[f] == nil {
				m.following[f] = map[string]bool{}
			}
			m.following[f][e] = true
		}
		return []Effect{Respond{To: in.Reply, Body: contract.EmptyReply{OK: true}}}
	case Presence:
		k := contract.Key(in.Handle)
		m.see(k)
		if m.gateways[k] == nil {
			m.gateways[k] = map[string]bool{}
		}
		if in.Online {
			m.gateways[k][in.Gateway] = true
		} else {
			delete(m.gateways[k], in.Gateway)
		}
	case GatewayStarted:
		for _, gws := range m.gateways {
			delete(gws, in.Gateway)
		}
	}
	return nil
}

// sortedPushes returns effs with each push's keys sorted (seqs alongside),
// so they compare with the model's whatever order the world delivers in.
func sortedPushes(effs []Effect) []Effect {
	sortKeys := func(keys []string, seqs []uint64) ([]string, []uint64) {
		idx := make([]int, len(keys))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		k2, s2 := make([]string, len(keys)), make([]uint64, len(seqs))
		for i, j := range idx {
			k2[i], s2[i] = keys[j], seqs[j]
		}
		return k2, s2
	}
	out := slices.Clone(effs)
	for i, e := range out {
		switch p := e.(type) {
		case PushTweet:
			p.Keys, p.Seqs = sortKeys(p.Keys, p.Seqs)
			out[i] = p
		case PushLikes:
			p.Keys, p.Seqs = sortKeys(p.Keys, p.Seqs)
			out[i] = p
		}
	}
	return out
}

func TestFeedMatchesModel(t *testing.T) {
	seeds := []int64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			const accounts, steps = 30, 6000
			script := randomScript(seed, accounts, steps)
			rng := rand.New(rand.NewSource(seed))
			w, m := New(), newModel()
			var pushes, fullFeeds int
			check := func(when int) {
				for _, k := range append(slices.Clone(m.keys), "nobody") {
					want := m.feed(k)
					if len(want) == contract.FeedCap {
						fullFeeds++
					}
					if got := w.Feed(k); !slices.Equal(got, ids(want)) {
						t.Fatalf("after input %d: Feed(%s) differs from the model:\n got  %v\n want %v", when, k, got, ids(want))
					}
					limit := rng.Intn(contract.FeedMaxLimit + 1)
					if got := readAll(t, w, strings.ToUpper(k), limit); !slices.Equal(got, want) {
						t.Fatalf("after input %d: read %s (limit %d) differs from the model:\n got  %v\n want %v", when, k, limit, got, want)
					}
				}
			}
			for i, in := range script {
				got, want := sortedPushes(w.Step(in)), m.step(in)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("input %d %#v:\n got  %#v\n want %#v", i, in, got, want)
				}
				pushes += len(got) - min(len(got), 1)
				if i%1000 == 0 {
					check(i)
				}
			}
			check(len(script))
			// The script must have exercised what it is for.
			if n := len(m.byAuthor["user_00"]); n <= contract.FeedCap {
				t.Errorf("busy author posted only %d tweets", n)
			}
			if fullFeeds == 0 || pushes == 0 {
				t.Errorf("full feeds seen %d times, %d push effects", fullFeeds, pushes)
			}
			t.Logf("%d tweets, %d push effects, %d full feeds seen", len(m.tweets), pushes, fullFeeds)
		})
	}
}
