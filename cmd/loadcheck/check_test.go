package loadcheck

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// checkModel: u0 follows u1; u2 is not followed. Feed(0) = n2, n1, o1, o0.
func checkModel(t *testing.T) *Model {
	t.Helper()
	m := NewModel([]string{"u0", "u1", "u2"})
	m.AddFollow(0, 1)
	mustTweet(t, m, "o0", 0, 1)
	mustTweet(t, m, "o1", 1, 2)
	mustTweet(t, m, "n1", 0, 3)
	mustTweet(t, m, "n2", 1, 4)
	mustTweet(t, m, "x", 2, 5)
	m.LikeSent(2, "n1")
	m.LikeConfirmed(2, "n1")
	return m
}

func wire(m *Model, ids ...string) []Tweet {
	var out []Tweet
	for _, id := range ids {
		r := m.Tweet(id)
		out = append(out, Tweet{ID: r.ID, Author: r.Handle, Text: r.Text, At: r.At, Likes: m.Likes(id)})
	}
	return out
}

func kinds(ms []Mismatch) map[string]int {
	out := make(map[string]int)
	for _, m := range ms {
		out[m.Kind]++
	}
	return out
}

func TestCompareFeed(t *testing.T) {
	m := checkModel(t)
	tests := []struct {
		name   string
		got    func() []Tweet
		counts map[string]int
	}{
		{"exact", func() []Tweet { return wire(m, "n2", "n1", "o1", "o0") }, map[string]int{}},
		{"empty feed", func() []Tweet { return nil }, map[string]int{KindMissing: 4}},
		{"one missing", func() []Tweet { return wire(m, "n2", "o1", "o0") }, map[string]int{KindMissing: 1}},
		{"unfollowed author", func() []Tweet { return wire(m, "x", "n2", "n1", "o1", "o0") }, map[string]int{KindExtra: 1}},
		{"repeated", func() []Tweet { return wire(m, "n2", "n1", "n1", "o1", "o0") }, map[string]int{KindExtra: 1}},
		{"swapped", func() []Tweet { return wire(m, "n2", "o1", "n1", "o0") }, map[string]int{KindOrder: 1}},
		{"reversed counts once", func() []Tweet { return wire(m, "o0", "o1", "n1", "n2") }, map[string]int{KindOrder: 1}},
		{"missing and swapped", func() []Tweet { return wire(m, "o1", "n2", "o0") }, map[string]int{KindMissing: 1, KindOrder: 1}},
		{"stale likes", func() []Tweet {
			f := wire(m, "n2", "n1", "o1", "o0")
			f[1].Likes = 0
			return f
		}, map[string]int{KindLikes: 1}},
		{"changed fields", func() []Tweet {
			f := wire(m, "n2", "n1", "o1", "o0")
			f[0].Text = "edited"
			f[2].Author = "U1"
			f[3].At = "2025-03-01T12:00:00.001000Z"
			return f
		}, map[string]int{KindField: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kinds(m.CompareFeed(0, tc.got())); !reflect.DeepEqual(got, tc.counts) {
				t.Errorf("kinds = %v, want %v", got, tc.counts)
			}
		})
	}
}

func tweetPush(m *Model, seq int64, id string) Push {
	tw := wire(m, id)[0]
	return Push{Kind: "tweet", Seq: seq, Tweet: &tw, TweetID: id}
}

func likesPush(seq int64, id string, n int64) Push {
	return Push{Kind: "likes", Seq: seq, TweetID: id, Likes: n}
}

func TestCheckPushes(t *testing.T) {
	m := checkModel(t)
	exp := m.ExpectPushes(0) // tweets o0 o1 n1 n2; n1 has 1 like
	good := []Push{
		tweetPush(m, 1, "o0"), tweetPush(m, 2, "o1"), tweetPush(m, 5, "n1"),
		tweetPush(m, 6, "n2"), likesPush(9, "n1", 1),
	}
	with := func(f func([]Push) []Push) []Push { return f(slices.Clone(good)) }
	tests := []struct {
		name   string
		pushes []Push
		counts map[string]int
	}{
		{"exact", good, map[string]int{}},
		{"nothing", nil, map[string]int{PushTweetMissing: 4, PushLikesMissing: 1}},
		{"duplicate", with(func(p []Push) []Push { return append(p, tweetPush(m, 10, "o1")) }), map[string]int{PushTweetDuplicate: 1}},
		{"extra", with(func(p []Push) []Push { return append(p, tweetPush(m, 10, "x")) }), map[string]int{PushTweetExtra: 1}},
		{"missing", with(func(p []Push) []Push { return slices.Delete(p, 2, 3) }), map[string]int{PushTweetMissing: 1}},
		{"seq repeats", with(func(p []Push) []Push { p[1].Seq = 1; return p }), map[string]int{PushSeq: 1}},
		{"seq goes back", with(func(p []Push) []Push { p[4].Seq = 3; return p }), map[string]int{PushSeq: 1}},
		{"intermediate likes counts are fine", with(func(p []Push) []Push {
			return slices.Insert(p, 4, likesPush(7, "n1", 0), likesPush(8, "n1", 5))
		}), map[string]int{}},
		{"last likes push stale", with(func(p []Push) []Push { return append(p, likesPush(12, "n1", 0)) }), map[string]int{PushLikesWrong: 1}},
		{"likes push for a tweet with no likes", with(func(p []Push) []Push { return append(p, likesPush(12, "o0", 1)) }), map[string]int{PushLikesWrong: 1}},
		{"likes push for an unfollowed author", with(func(p []Push) []Push { return append(p, likesPush(12, "x", 1)) }), map[string]int{PushLikesForeign: 1}},
		{"pushed tweet differs", with(func(p []Push) []Push {
			tw := *p[0].Tweet
			tw.Text = "other"
			p[0].Tweet = &tw
			return p
		}), map[string]int{PushTweetField: 1}},
		{"malformed", with(func(p []Push) []Push {
			return append(p, Push{Kind: "follow", Seq: 20, Err: errors.New("unknown kind")})
		}), map[string]int{PushMalformed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kinds(m.CheckPushes(0, exp, tc.pushes)); !reflect.DeepEqual(got, tc.counts) {
				t.Errorf("kinds = %v, want %v", got, tc.counts)
			}
		})
	}
}

func TestTally(t *testing.T) {
	tests := []struct {
		max  int
		add  []Mismatch
		want []string
	}{
		{max: 2, add: []Mismatch{{"a", "1"}, {"b", "2"}, {"a", "3"}}, want: []string{"a: 1", "b: 2"}},
		{max: 4, add: []Mismatch{{"b", "1"}, {"b", "2"}, {"b", "3"}, {"a", "4"}}, want: []string{"a: 4", "b: 1", "b: 2", "b: 3"}},
		{max: 3, add: []Mismatch{{"b", "1"}, {"b", "2"}, {"b", "3"}, {"b", "4"}, {"a", "5"}}, want: []string{"a: 5", "b: 1", "b: 2"}},
		{max: 0, add: []Mismatch{{"a", "1"}}, want: nil},
	}
	for _, tc := range tests {
		ta := NewTally(tc.max)
		ta.AddAll(tc.add)
		if got := ta.Examples(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("max %d: Examples = %q, want %q", tc.max, got, tc.want)
		}
		if ta.Total() != len(tc.add) {
			t.Errorf("max %d: Total = %d, want %d", tc.max, ta.Total(), len(tc.add))
		}
	}
	ta := NewTally(1)
	ta.AddAll([]Mismatch{{"a", "1"}, {"b", "2"}, {"a", "3"}})
	if got, want := ta.Counts(), map[string]int{"a": 2, "b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Counts = %v, want %v", got, want)
	}
}
