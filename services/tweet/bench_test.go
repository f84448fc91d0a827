package tweet

import (
	"fmt"
	"testing"

	"chirp/contract"
)

// Inputs are built before the timer starts (a chunk at a time for the
// inputs that must differ), so allocs/op counts the world's allocations.

// BenchmarkStepPost: an accepted post with a request id, which the world
// remembers for retries.
func BenchmarkStepPost(b *testing.B) {
	w := New()
	w.Step(created(1, "author"))
	ins := make([]Post, 0, 1024)
	seq := uint64(1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%cap(ins) == 0 {
			b.StopTimer()
			ins = ins[:0]
			for range cap(ins) {
				seq++
				in := postIn(seq, "author", "hello, world: a tweet of an ordinary length")
				in.Request = fmt.Sprintf("author:post:%d", seq)
				ins = append(ins, in)
			}
			b.StartTimer()
		}
		effs := w.Step(ins[i%cap(ins)])
		if _, ok := effs[0].(Publish); !ok {
			b.Fatalf("post rejected: %#v", effs)
		}
	}
}

// BenchmarkStepLike: a like by an account that has not liked the tweet
// yet, so its count grows.
func BenchmarkStepLike(b *testing.B) {
	const likers = 1 << 12
	w := New()
	w.Step(created(1, "author"))
	w.Step(postIn(2, "author", "like me"))
	id := contract.TweetID("author", 1)
	ins := make([]Like, likers)
	for i := range ins {
		h := fmt.Sprintf("liker%d", i)
		w.Step(created(uint64(3+i), h))
		ins[i] = likeIn(uint64(3+likers+i), h, id)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%likers == 0 {
			b.StopTimer()
			w.tweets[id].likers = map[string]struct{}{} // like again from zero
			b.StartTimer()
		}
		effs := w.Step(ins[i%likers])
		if _, ok := effs[0].(Publish); !ok {
			b.Fatalf("like rejected: %#v", effs)
		}
	}
}
