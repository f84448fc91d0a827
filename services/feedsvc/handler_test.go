package feedsvc

import (
	"encoding/json"
	"testing"
	"time"

	"chirp/contract"
	"chirp/natskit/natstest"
	"chirp/services/feed"
	"chirp/services/loop"
)

// Pushes encoded into the loop's shared buffer arrive as separate messages
// on each account's push subject, each exactly the contract's frame with
// its own seq, after other sends of the same input.
func TestPushesArriveAsContractFrames(t *testing.T) {
	s := natstest.Server(t)
	nc := natstest.Conn(t, s)
	sc := natstest.Conn(t, s)
	sub, err := sc.SubscribeSync("chirp.push.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Flush(); err != nil {
		t.Fatal(err)
	}
	tw := contract.Tweet{ID: "alice-00000007", Author: "Alice", Text: `say "hi" ✓`, At: "2026-12-03T21:50:01.123Z", Likes: 2}
	h := &handler{w: feed.New()}
	var out loop.Out
	out.Send("chirp.push.zed", []byte(`{"first":true}`))
	if err := h.pushTweet(feed.PushTweet{Keys: []string{"alice", "bob", "carol"}, Seqs: []uint64{7, 1, 12345678901}, Tweet: tw}, &out); err != nil {
		t.Fatal(err)
	}
	h.pushLikes(feed.PushLikes{Keys: []string{"bob"}, Seqs: []uint64{2}, Tweet: tw.ID, Likes: 3}, &out)
	if err := out.PublishSends(nc); err != nil {
		t.Fatal(err)
	}
	type tweetPush struct {
		Push  string         `json:"push"`
		Seq   uint64         `json:"seq"`
		Tweet contract.Tweet `json:"tweet"`
	}
	type likesPush struct {
		Push  string `json:"push"`
		Seq   uint64 `json:"seq"`
		Tweet string `json:"tweet"`
		Likes int    `json:"likes"`
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := []struct{ subject, data string }{
		{"chirp.push.zed", `{"first":true}`},
		{"chirp.push.alice", enc(tweetPush{"tweet", 7, tw})},
		{"chirp.push.bob", enc(tweetPush{"tweet", 1, tw})},
		{"chirp.push.carol", enc(tweetPush{"tweet", 12345678901, tw})},
		{"chirp.push.bob", enc(likesPush{"likes", 2, tw.ID, 3})},
	}
	for i, w := range want {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Subject != w.subject || string(m.Data) != w.data {
			t.Fatalf("message %d: %s %s\nwant %s %s", i, m.Subject, m.Data, w.subject, w.data)
		}
	}
}
