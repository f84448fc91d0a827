package feedsvc

import (
	"fmt"
	"testing"

	"chirp/contract"
	"chirp/natskit/natstest"
	"chirp/services/feed"
	"chirp/services/loop"
)

// BenchmarkPushTweet encodes one tweet push effect for K recipients and
// publishes the frames on a real embedded nats-server, as the feed loop
// does after a post. Nobody subscribes, so the server's share is reading
// and discarding; the connection is flushed before the timer stops.
func BenchmarkPushTweet(b *testing.B) {
	nc := natstest.Conn(b, natstest.Server(b))
	tweet := contract.Tweet{ID: contract.TweetID("author", 42), Author: "Author", Text: "hello, world: a tweet of an ordinary length, with some words in it", At: "2026-12-03T21:50:01.123Z"}
	for _, k := range []int{1, 10, 1000, 3469} {
		b.Run(fmt.Sprintf("recipients=%d", k), func(b *testing.B) {
			e := feed.PushTweet{Tweet: tweet}
			for i := range k {
				e.Keys = append(e.Keys, fmt.Sprintf("follower_%d", i))
				e.Seqs = append(e.Seqs, uint64(1000+i))
			}
			h := &handler{w: feed.New()}
			var out loop.Out
			b.ReportAllocs()
			for b.Loop() {
				out.Reset()
				if err := h.pushTweet(e, &out); err != nil {
					b.Fatal(err)
				}
				if err := out.PublishSends(nc); err != nil {
					b.Fatal(err)
				}
			}
			if err := nc.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/push")
		})
	}
}
