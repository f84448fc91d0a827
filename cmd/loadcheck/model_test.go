package loadcheck

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// at0 is a fixed base time; atMs(n) is n milliseconds later in AtLayout.
var at0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func atMs(n int) string { return at0.Add(time.Duration(n) * time.Millisecond).Format(AtLayout) }

func mustTweet(t *testing.T, m *Model, id string, author int, ms int) *TweetRec {
	t.Helper()
	rec, err := NewTweetRec(id, author, m.Handle(author), fmt.Sprintf("text %s", id), atMs(ms))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddTweet(rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func ids(ts []*TweetRec) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestParseAt(t *testing.T) {
	tests := []struct {
		in    string
		ok    bool
		milli int64
	}{
		{"2025-03-01T12:00:00.000Z", true, at0.UnixMilli()},
		{"2025-03-01T12:00:00.042Z", true, at0.UnixMilli() + 42},
		{"2025-03-01T12:00:00Z", false, 0},          // no milliseconds
		{"2025-03-01T12:00:00.0421Z", false, 0},     // too precise
		{"2025-03-01T12:00:00.042+00:00", false, 0}, // not written as UTC Z
		{"yesterday", false, 0},
	}
	for _, tc := range tests {
		got, err := ParseAt(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseAt(%q) err = %v, want ok=%t", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && got.UnixMilli() != tc.milli {
			t.Errorf("ParseAt(%q) = %d ms, want %d", tc.in, got.UnixMilli(), tc.milli)
		}
	}
}

func TestFeedOrder(t *testing.T) {
	type tw struct {
		id     string
		author int
		ms     int
	}
	tests := []struct {
		name    string
		follows [][2]int // follower, followee
		tweets  []tw
		acct    int
		want    []string
	}{
		{
			name:   "newest first",
			tweets: []tw{{"a", 0, 1}, {"b", 0, 3}, {"c", 0, 2}},
			want:   []string{"b", "c", "a"},
		},
		{
			name:   "equal at: id descending as bytes, not as numbers",
			tweets: []tw{{"a10", 0, 5}, {"a9", 0, 5}, {"B", 0, 5}, {"a", 0, 5}, {"z", 0, 4}},
			want:   []string{"a9", "a10", "a", "B", "z"},
		},
		{
			name:    "own and followed authors only",
			follows: [][2]int{{0, 1}, {2, 0}},
			tweets:  []tw{{"x0", 0, 1}, {"x1", 1, 2}, {"x2", 2, 3}, {"y1", 1, 0}},
			want:    []string{"x1", "x0", "y1"},
		},
		{
			name:    "follower view",
			follows: [][2]int{{0, 1}, {2, 0}},
			tweets:  []tw{{"x0", 0, 1}, {"x1", 1, 2}, {"x2", 2, 3}},
			acct:    2,
			want:    []string{"x2", "x0"},
		},
		{
			name:    "following twice changes nothing",
			follows: [][2]int{{0, 1}, {0, 1}},
			tweets:  []tw{{"x0", 0, 1}, {"x1", 1, 1}},
			want:    []string{"x1", "x0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel([]string{"u0", "u1", "u2"})
			for _, f := range tc.follows {
				m.AddFollow(f[0], f[1])
			}
			for _, x := range tc.tweets {
				mustTweet(t, m, x.id, x.author, x.ms)
			}
			if got := ids(m.Feed(tc.acct)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Feed(%d) = %v, want %v", tc.acct, got, tc.want)
			}
		})
	}
}

func TestFeedCap(t *testing.T) {
	tests := []struct {
		tweets   int
		wantLen  int
		wantLast string
	}{
		{tweets: 799, wantLen: 799, wantLast: "t0000"},
		{tweets: 800, wantLen: 800, wantLast: "t0000"},
		{tweets: 1000, wantLen: 800, wantLast: "t0200"}, // the 200 oldest fall out
	}
	for _, tc := range tests {
		m := NewModel([]string{"u0", "u1"})
		m.AddFollow(0, 1)
		for i := range tc.tweets {
			mustTweet(t, m, fmt.Sprintf("t%04d", i), i%2, i) // alternate authors
		}
		feed := m.Feed(0)
		if len(feed) != tc.wantLen || feed[len(feed)-1].ID != tc.wantLast {
			t.Errorf("%d tweets: feed has %d, last %s; want %d, last %s", tc.tweets, len(feed), feed[len(feed)-1].ID, tc.wantLen, tc.wantLast)
		}
		if got := len(m.Visible(0)); got != tc.tweets {
			t.Errorf("%d tweets: Visible has %d", tc.tweets, got)
		}
		if feed[0].ID != fmt.Sprintf("t%04d", tc.tweets-1) {
			t.Errorf("%d tweets: first is %s", tc.tweets, feed[0].ID)
		}
	}
}

func TestAddTweetRejectsRepeatedID(t *testing.T) {
	m := NewModel([]string{"u0", "u1"})
	mustTweet(t, m, "dup", 0, 1)
	rec, _ := NewTweetRec("dup", 1, "u1", "other", atMs(2))
	if err := m.AddTweet(rec); err == nil {
		t.Fatal("second tweet with the same id accepted")
	}
	if m.Tweets() != 1 || len(m.Feed(1)) != 0 {
		t.Errorf("model changed by a rejected tweet: %d tweets, feed(1) %v", m.Tweets(), ids(m.Feed(1)))
	}
}

func TestLikesCountDistinctLikers(t *testing.T) {
	type like struct {
		liker     int
		confirmed bool // got an ok reply
	}
	tests := []struct {
		name      string
		likes     []like
		wantLikes int64
		wantLo    []int64 // LikeSent results, in order
		wantHi    []int64 // LikeConfirmed results for confirmed likes, in order
	}{
		{name: "none", wantLikes: 0},
		{
			name:      "three accounts",
			likes:     []like{{1, true}, {2, true}, {0, true}},
			wantLikes: 3, wantLo: []int64{1, 2, 3}, wantHi: []int64{1, 2, 3},
		},
		{
			name:      "liking twice counts once",
			likes:     []like{{1, true}, {1, true}, {2, true}, {1, true}},
			wantLikes: 2, wantLo: []int64{1, 1, 2, 2}, wantHi: []int64{1, 1, 2, 2},
		},
		{
			name:      "a like without an ok reply is not counted but bounds later replies",
			likes:     []like{{1, false}, {2, true}},
			wantLikes: 1, wantLo: []int64{1, 1}, wantHi: []int64{2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel([]string{"u0", "u1", "u2"})
			mustTweet(t, m, "t", 0, 1)
			var lo, hi []int64
			for _, l := range tc.likes {
				lo = append(lo, m.LikeSent(l.liker, "t"))
				if l.confirmed {
					hi = append(hi, m.LikeConfirmed(l.liker, "t"))
				}
			}
			if got := m.Likes("t"); got != tc.wantLikes {
				t.Errorf("Likes = %d, want %d", got, tc.wantLikes)
			}
			if !reflect.DeepEqual(lo, tc.wantLo) || !reflect.DeepEqual(hi, tc.wantHi) {
				t.Errorf("bounds lo=%v hi=%v, want lo=%v hi=%v", lo, hi, tc.wantLo, tc.wantHi)
			}
		})
	}
}

func TestExpectPushes(t *testing.T) {
	m := NewModel([]string{"u0", "u1", "u2", "u3"})
	m.AddFollow(0, 1)
	m.AddFollow(0, 2)
	m.AddFollow(3, 0)
	// u1 posts 801 tweets: all visible to u0, but the oldest is beyond the feed cap.
	for i := range 801 {
		mustTweet(t, m, fmt.Sprintf("a%03d", i), 1, 10+i)
	}
	mustTweet(t, m, "own", 0, 5)              // u0's own, older than all of u1's: beyond the cap
	mustTweet(t, m, "u2", 2, 2000)            // followed
	mustTweet(t, m, "u3", 3, 3000)            // not followed by u0
	for _, liker := range []int{1, 2, 3, 1} { // u1 liked twice
		m.LikeSent(liker, "u2")
		m.LikeConfirmed(liker, "u2")
	}

	e := m.ExpectPushes(0)
	if len(e.Tweets) != 803 || !e.Tweets["own"] || !e.Tweets["a000"] || !e.Tweets["u2"] || e.Tweets["u3"] {
		t.Errorf("Tweets: %d ids, own=%t a000=%t u2=%t u3=%t; want 803, true, true, true, false",
			len(e.Tweets), e.Tweets["own"], e.Tweets["a000"], e.Tweets["u2"], e.Tweets["u3"])
	}
	if len(e.FeedLikes) != FeedCap {
		t.Errorf("FeedLikes has %d tweets, want %d", len(e.FeedLikes), FeedCap)
	}
	if _, in := e.FeedLikes["a000"]; in {
		t.Error("a000 is beyond the cap but in FeedLikes")
	}
	if _, in := e.FeedLikes["own"]; in {
		t.Error("own is beyond the cap but in FeedLikes")
	}
	if got := e.FeedLikes["u2"]; got != 3 {
		t.Errorf("FeedLikes[u2] = %d, want 3", got)
	}

	e3 := m.ExpectPushes(3)
	if want := map[string]bool{"u3": true, "own": true}; !reflect.DeepEqual(e3.Tweets, want) {
		t.Errorf("u3 expects %v, want %v", e3.Tweets, want)
	}

	seenAll := make(map[string]int)
	for id := range e3.Tweets {
		seenAll[id] = 1
	}
	tests := []struct {
		name      string
		seen      map[string]int
		lastLikes map[string]int64
		want      bool
	}{
		{"nothing yet", map[string]int{}, nil, false},
		{"one tweet missing", map[string]int{"u3": 1}, nil, false},
		{"all tweets, no likes needed", seenAll, nil, true},
		{"a likes push must show the final count", seenAll, map[string]int64{"own": 2}, false},
		{"final count zero pushed", seenAll, map[string]int64{"own": 0}, true},
	}
	for _, tc := range tests {
		if got := e3.Satisfied(tc.seen, tc.lastLikes); got != tc.want {
			t.Errorf("%s: Satisfied = %t, want %t", tc.name, got, tc.want)
		}
	}
	seen0 := make(map[string]int)
	for id := range e.Tweets {
		seen0[id] = 1
	}
	if e.Satisfied(seen0, nil) {
		t.Error("u0: satisfied without the likes push for u2")
	}
	if !e.Satisfied(seen0, map[string]int64{"u2": 3}) {
		t.Error("u0: not satisfied with every tweet and u2's final likes")
	}
}
