package feed

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"chirp/contract"
)

// Benchmarks of Step at steady state: every follower's feed already holds
// contract.FeedCap tweets, so a post drops the oldest entry of each feed,
// as it does on a long-running service. Inputs are built with the timer
// stopped, so allocs/op counts the world's own allocations only.

// largestGraph is the follower graph whose most-followed account sizes the
// biggest fan-out benchmark.
const largestGraph = "../../graphs/twitter-follows-13k/edges.txt"

// mostFollowers counts, in an edge list where a line "a b" means b follows
// a, the followers of the most-followed account.
func mostFollowers(tb testing.TB, path string) int {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open graph: %v", err)
	}
	defer f.Close()
	followers := map[string]int{}
	most := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		a, _, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			tb.Fatalf("graph line %q is not two ids", sc.Text())
		}
		followers[a]++
		most = max(most, followers[a])
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read graph: %v", err)
	}
	return most
}

// fanoutWorld returns a world where "author" has n followers, all online,
// each with a full feed of the author's tweets; the next tweet is number
// contract.FeedCap+1, posted at the returned millisecond.
func fanoutWorld(n int) (*World, int) {
	w := New()
	for i := range n {
		h := fmt.Sprintf("f%d", i)
		w.Step(followed(h, "author"))
		w.Step(online(h, "gw"))
	}
	w.Step(online("author", "gw"))
	ms := 0
	for i := 1; i <= contract.FeedCap; i++ {
		ms++
		w.Step(posted(tw("author", uint64(i), ms)))
	}
	return w, ms
}

// batch builds inputs with the timer stopped, a chunk at a time.
type batch[T any] struct {
	b    *testing.B
	make func(i int) T
	buf  []T
	at   int // index in buf of the next input to hand out
	made int // inputs made so far
}

func (q *batch[T]) take() T {
	if q.at == len(q.buf) {
		q.b.StopTimer()
		if q.buf == nil {
			q.buf = make([]T, 1024)
		}
		for i := range q.buf {
			q.buf[i] = q.make(q.made)
			q.made++
		}
		q.at = 0
		q.b.StartTimer()
	}
	q.at++
	return q.buf[q.at-1]
}

func fanouts(b *testing.B) []int {
	return []int{10, 1000, mostFollowers(b, largestGraph)}
}

// BenchmarkStepPost: a new tweet enters the author's and every follower's
// feed and is pushed to all of them.
func BenchmarkStepPost(b *testing.B) {
	for _, n := range fanouts(b) {
		b.Run(fmt.Sprintf("followers=%d", n), func(b *testing.B) {
			w, ms := fanoutWorld(n)
			first := contract.FeedCap + 1
			q := &batch[Posted]{b: b, make: func(i int) Posted {
				return posted(tw("author", uint64(first+i), ms+1+i))
			}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				effs := w.Step(q.take())
				if len(effs) != 2 {
					b.Fatalf("post gave %d effects, want reply and push", len(effs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(n+1)), "ns/recipient")
		})
	}
}

// BenchmarkStepLike: a like count change of a tweet in every follower's
// feed is pushed to all of them.
func BenchmarkStepLike(b *testing.B) {
	for _, n := range fanouts(b) {
		b.Run(fmt.Sprintf("followers=%d", n), func(b *testing.B) {
			w, _ := fanoutWorld(n)
			id := contract.TweetID("author", contract.FeedCap)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				effs := w.Step(liked(id, i+1))
				if len(effs) != 2 {
					b.Fatalf("like gave %d effects, want reply and push", len(effs))
				}
			}
		})
	}
}

// BenchmarkStepRead: one page of the default size from a full feed, first
// page and a page behind a cursor.
func BenchmarkStepRead(b *testing.B) {
	w, _ := fanoutWorld(1)
	first := w.Step(read("f0", 0, ""))[0].(Respond).Body.(contract.FeedReply)
	for _, c := range []struct{ name, before string }{{"first", ""}, {"cursor", first.Next}} {
		b.Run(c.name, func(b *testing.B) {
			in := read("f0", 0, c.before)
			b.ReportAllocs()
			for b.Loop() {
				page := w.Step(in)[0].(Respond).Body.(contract.FeedReply)
				if len(page.Tweets) != contract.FeedDefaultLim {
					b.Fatalf("page of %d tweets", len(page.Tweets))
				}
			}
		})
	}
}
