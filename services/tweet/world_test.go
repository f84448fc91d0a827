package tweet

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"chirp/contract"
)

// t0 is the stream time of input seq 0; input seq n is stored n ms later.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func meta(seq uint64) Meta {
	return Meta{Seq: seq, At: t0.Add(time.Duration(seq) * time.Millisecond), Reply: fmt.Sprintf("reply.%d", seq)}
}

// stamp is how meta(seq).At appears in events.
func stamp(seq uint64) string { return contract.FormatTime(meta(seq).At) }

func created(seq uint64, handle string) UserCreated {
	return UserCreated{Meta: meta(seq), Handle: handle}
}

func postIn(seq uint64, author, text string) Post {
	return Post{Meta: meta(seq), Author: author, Text: text}
}

func likeIn(seq uint64, user, id string) Like { return Like{Meta: meta(seq), User: user, Tweet: id} }

// newWorld returns a world that has stepped through ins, failing the test if
// any of them is rejected.
func newWorld(t *testing.T, ins ...Input) *World {
	t.Helper()
	w := New()
	for _, in := range ins {
		for _, e := range w.Step(in) {
			if _, ok := e.(Respond); ok {
				t.Fatalf("setup input %#v rejected: %#v", in, e)
			}
		}
	}
	return w
}

func wantEffects(t *testing.T, got, want []Effect) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("effects:\n got  %#v\n want %#v", got, want)
	}
}

func failure(to, code, message string) []Effect {
	return []Effect{Respond{To: to, Body: contract.Fail(code, message)}}
}

// posted is the Publish effect of an accepted post.
func posted(seq uint64, key, id, author, text string) Publish {
	return Publish{
		Subject: "chirp.evt.tweet.posted." + key,
		Event:   contract.TweetPosted{Tweet: contract.Tweet{ID: id, Author: author, Text: text, At: stamp(seq)}},
		Reply:   fmt.Sprintf("reply.%d", seq),
	}
}

// liked is the Publish effect of an accepted like.
func liked(seq uint64, authorKey, id, author, by string, likes int) Publish {
	return Publish{
		Subject: "chirp.evt.tweet.liked." + authorKey,
		Event:   contract.TweetLiked{Tweet: id, Author: author, By: by, Likes: likes},
		Reply:   fmt.Sprintf("reply.%d", seq),
	}
}

const badText = "text must be 1-280 characters of valid UTF-8"

func TestPostPublishesTweet(t *testing.T) {
	w := newWorld(t, created(1, "Alice"))
	got := w.Step(postIn(2, "alice", "hello"))
	wantEffects(t, got, []Effect{Publish{
		Subject: "chirp.evt.tweet.posted.alice",
		Event: contract.TweetPosted{Tweet: contract.Tweet{
			ID: "alice-00000001", Author: "Alice", Text: "hello", At: "2025-03-01T12:00:00.002Z", Likes: 0,
		}},
		Reply: "reply.2",
	}})
	if n, ok := w.Likes("alice-00000001"); !ok || n != 0 {
		t.Fatalf("Likes = %d, %v; want 0, true", n, ok)
	}
}

func TestPostTimeIsStreamTimeInUTC(t *testing.T) {
	w := newWorld(t, created(1, "alice"))
	in := postIn(2, "alice", "x")
	in.At = time.Date(2025, 3, 1, 7, 0, 0, 999999999, time.FixedZone("EST", -5*3600))
	ev := w.Step(in)[0].(Publish).Event.(contract.TweetPosted)
	if ev.Tweet.At != "2025-03-01T12:00:00.999Z" {
		t.Fatalf("At = %q", ev.Tweet.At)
	}
}

func TestPostIDsCountPerAuthor(t *testing.T) {
	w := newWorld(t, created(1, "Alice"), created(2, "bob"))
	for _, tc := range []struct {
		seq         uint64
		author      string
		key, id, as string
	}{
		{10, "alice", "alice", "alice-00000001", "Alice"},
		{11, "ALICE", "alice", "alice-00000002", "Alice"},
		{12, "bob", "bob", "bob-00000001", "bob"},
		{13, "Alice", "alice", "alice-00000003", "Alice"},
	} {
		got := w.Step(postIn(tc.seq, tc.author, "t"))
		wantEffects(t, got, []Effect{posted(tc.seq, tc.key, tc.id, tc.as, "t")})
	}
	// A rejected post does not use up an id.
	w.Step(postIn(14, "bob", ""))
	wantEffects(t, w.Step(postIn(15, "bob", "t")), []Effect{posted(15, "bob", "bob-00000002", "bob", "t")})
}

func TestPostAcceptsTextWithinTheRules(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"one char", "a"},
		{"280 ASCII", strings.Repeat("a", 280)},
		{"280 two-byte runes", strings.Repeat("é", 280)},
		{"280 emoji (1120 bytes)", strings.Repeat("🐦", 280)},
		{"whitespace only", " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, created(1, "alice"))
			wantEffects(t, w.Step(postIn(2, "alice", tc.text)),
				[]Effect{posted(2, "alice", "alice-00000001", "alice", tc.text)})
		})
	}
}

func TestPostRejectsInvalidText(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"empty", ""},
		{"281 ASCII", strings.Repeat("a", 281)},
		{"281 emoji", strings.Repeat("🐦", 281)},
		{"invalid UTF-8", "caf\xe9"},
		{"lone continuation byte", "\x80"},
		{"surrogate half", "\xed\xa0\x80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, created(1, "alice"))
			wantEffects(t, w.Step(postIn(2, "alice", tc.text)), failure("reply.2", contract.CodeInvalid, badText))
			if _, ok := w.Likes("alice-00000001"); ok {
				t.Fatal("a rejected post created a tweet")
			}
		})
	}
}

func TestPostByUnknownAccountIsNotFound(t *testing.T) {
	w := newWorld(t, created(1, "alice"))
	wantEffects(t, w.Step(postIn(2, "bob", "hi")), failure("reply.2", contract.CodeNotFound, "no such account: bob"))
	// Unknown author is checked before the text.
	wantEffects(t, w.Step(postIn(3, "bob", "")), failure("reply.3", contract.CodeNotFound, "no such account: bob"))
}

func TestUserCreatedIgnoresRepeatsAndInvalidHandles(t *testing.T) {
	w := New()
	for _, in := range []UserCreated{created(1, "Alice"), created(2, "a-b"), created(3, "")} {
		if got := w.Step(in); got != nil {
			t.Fatalf("UserCreated effects = %#v, want none", got)
		}
	}
	w.Step(postIn(4, "alice", "one"))
	// A repeated event (any case) neither renames nor resets the account.
	if got := w.Step(created(5, "ALICE")); got != nil {
		t.Fatalf("UserCreated effects = %#v, want none", got)
	}
	wantEffects(t, w.Step(postIn(6, "alice", "two")), []Effect{posted(6, "alice", "alice-00000002", "Alice", "two")})
	wantEffects(t, w.Step(postIn(7, "a-b", "x")), failure("reply.7", contract.CodeNotFound, "no such account: a-b"))
}

func TestLikePublishesAbsoluteCount(t *testing.T) {
	w := newWorld(t, created(1, "Alice"), created(2, "Bob"), postIn(3, "alice", "hi"))
	wantEffects(t, w.Step(likeIn(4, "bob", "alice-00000001")),
		[]Effect{liked(4, "alice", "alice-00000001", "Alice", "Bob", 1)})
	// Authors may like their own tweets.
	wantEffects(t, w.Step(likeIn(5, "ALICE", "alice-00000001")),
		[]Effect{liked(5, "alice", "alice-00000001", "Alice", "Alice", 2)})
	if n, _ := w.Likes("alice-00000001"); n != 2 {
		t.Fatalf("Likes = %d, want 2", n)
	}
}

func TestLikeTwiceCountsOnce(t *testing.T) {
	w := newWorld(t, created(1, "alice"), created(2, "Bob"), created(3, "carol"), postIn(4, "alice", "hi"))
	id := "alice-00000001"
	for _, tc := range []struct {
		seq   uint64
		user  string
		by    string
		likes int
	}{
		{5, "bob", "Bob", 1},
		{6, "bob", "Bob", 1}, // published again with the unchanged count
		{7, "BOB", "Bob", 1},
		{8, "carol", "carol", 2},
		{9, "bob", "Bob", 2},
	} {
		wantEffects(t, w.Step(likeIn(tc.seq, tc.user, id)), []Effect{liked(tc.seq, "alice", id, "alice", tc.by, tc.likes)})
	}
	if n, _ := w.Likes(id); n != 2 {
		t.Fatalf("Likes = %d, want 2", n)
	}
}

func TestLikesAreCountedPerTweet(t *testing.T) {
	w := newWorld(t, created(1, "alice"), created(2, "bob"),
		postIn(3, "alice", "a1"), postIn(4, "alice", "a2"), postIn(5, "bob", "b1"),
		likeIn(6, "bob", "alice-00000002"), likeIn(7, "alice", "bob-00000001"), likeIn(8, "bob", "bob-00000001"))
	for id, want := range map[string]int{"alice-00000001": 0, "alice-00000002": 1, "bob-00000001": 2} {
		if n, ok := w.Likes(id); !ok || n != want {
			t.Errorf("Likes(%s) = %d, %v; want %d, true", id, n, ok, want)
		}
	}
	if _, ok := w.Likes("carol-00000001"); ok {
		t.Error("Likes reports a tweet nobody posted")
	}
}

func TestLikeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, user, id string
		message        string
	}{
		{"unknown user", "carol", "alice-00000001", "no such account: carol"},
		{"unknown user and tweet", "carol", "alice-00000009", "no such account: carol"},
		{"next id not yet posted", "bob", "alice-00000002", "no such tweet: alice-00000002"},
		{"id in other case", "bob", "ALICE-00000001", "no such tweet: ALICE-00000001"},
		{"unpadded id", "bob", "alice-1", "no such tweet: alice-1"},
		{"not an id", "bob", "hello", "no such tweet: hello"},
		{"empty id", "bob", "", "no such tweet: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, created(1, "alice"), created(2, "bob"), postIn(3, "alice", "hi"))
			wantEffects(t, w.Step(likeIn(4, tc.user, tc.id)), failure("reply.4", contract.CodeNotFound, tc.message))
		})
	}
}

func history() []Input {
	return []Input{
		created(1, "alice"), created(2, "Bob"),
		postIn(3, "alice", "a1"), postIn(4, "bob", "b1"), likeIn(5, "bob", "alice-00000001"),
	}
}

func TestRejectedInputChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		code string
	}{
		{"post by unknown", postIn(10, "carol", "hi"), contract.CodeNotFound},
		{"post empty", postIn(10, "alice", ""), contract.CodeInvalid},
		{"post too long", postIn(10, "bob", strings.Repeat("x", 281)), contract.CodeInvalid},
		{"post invalid UTF-8", postIn(10, "bob", "\xff"), contract.CodeInvalid},
		{"like by unknown", likeIn(10, "carol", "alice-00000001"), contract.CodeNotFound},
		{"like unknown tweet", likeIn(10, "alice", "bob-00000002"), contract.CodeNotFound},
		{"repeated like", likeIn(10, "bob", "alice-00000001"), ""},
		{"repeated user", created(10, "ALICE"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, twin := newWorld(t, history()...), newWorld(t, history()...)
			got := w.Step(tc.in)
			if tc.code != "" {
				if len(got) != 1 {
					t.Fatalf("effects = %#v, want one Respond", got)
				}
				if body := got[0].(Respond).Body.(contract.ErrorReply); body.OK || body.Error.Code != tc.code {
					t.Fatalf("reply = %#v, want code %q", body, tc.code)
				}
			}
			if !reflect.DeepEqual(w, twin) {
				t.Fatal("the input changed the world")
			}
		})
	}
}

type bogusInput struct{}

func (bogusInput) isInput() {}

func TestUnknownInputIsIgnored(t *testing.T) {
	w, twin := newWorld(t, history()...), newWorld(t, history()...)
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
	script := append(history(),
		created(6, "carol"), postIn(7, "carol", "c1"), postIn(8, "Carol", "c2"),
		likeIn(9, "alice", "carol-00000002"), likeIn(10, "bob", "carol-00000002"),
		likeIn(11, "bob", "carol-00000002"), likeIn(12, "dave", "carol-00000001"),
		postIn(13, "dave", "d"), postIn(14, "carol", ""), likeIn(15, "alice", "carol-00000009"),
	)
	run := func() [][]Effect {
		w := New()
		var out [][]Effect
		for _, in := range script {
			out = append(out, w.Step(in))
		}
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs differ:\n%#v\n%#v", a, b)
	}
}
