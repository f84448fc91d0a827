package stack_test

import (
	"context"
	"testing"

	"chirp/cmd/stack"
	"chirp/gateway"
	"chirp/natskit"
)

// Several gateways at once: a second gateway process (here a second stack
// that runs only a gateway) joins the first stack's NATS with the gateway's
// own NATS user, and an account connected to both gets every push on both.

func TestAccountOnTwoGatewaysGetsEveryPushOnBoth(t *testing.T) {
	secret := []byte("a secret both gateways share, 32b")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	first, err := stack.Start(ctx, stack.Config{
		HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(), BcryptCost: bcryptMinCost,
		Gateway: gateway.Config{ID: "gw1", TokenSecret: secret}, Log: testLogger(),
	})
	if err != nil {
		t.Fatalf("start first stack: %v", err)
	}
	t.Cleanup(first.Close)
	second, err := stack.Start(ctx, stack.Config{
		HTTPAddr: "127.0.0.1:0", NATSURL: first.NATSURL, Components: []string{"gateway"},
		NATSCredentials: first.NATSUsers[natskit.RoleGateway],
		Gateway:         gateway.Config{ID: "gw2", TokenSecret: secret}, Log: testLogger(),
	})
	if err != nil {
		t.Fatalf("start second gateway: %v", err)
	}
	t.Cleanup(second.Close)
	url1, url2 := "ws://"+first.HTTPAddr+"/ws", "ws://"+second.HTTPAddr+"/ws"

	author := signup(t, url2, "twogw_author")
	reader := signup(t, url1, "twogw_reader")
	reader.follow(author.handle)
	other := resumeAs(t, url2, reader.handle, tokenOf(t, reader.ok("login", map[string]any{"handle": reader.handle, "password": testPassword})), 0)

	var ids []string
	for _, text := range []string{"one", "two", "three"} {
		ids = append(ids, author.post(text).ID)
	}
	for _, id := range ids {
		p1, p2 := reader.nextTweetPush(id), other.nextTweetPush(id)
		if p1.Seq != p2.Seq {
			t.Errorf("tweet %s: seq %d on gw1, %d on gw2; one account has one seq", id, p1.Seq, p2.Seq)
		}
	}
	// Closing the socket on one gateway leaves the other's pushes alone.
	other.Close()
	last := author.post("after one closed")
	reader.nextTweetPush(last.ID)
	reader.noPushQueued()

	// A like through the second gateway changes the count on the first.
	liker := signup(t, url2, "twogw_liker")
	if n := liker.like(ids[0]); n != 1 {
		t.Fatalf("like count %d, want 1", n)
	}
	p := reader.nextPush()
	if p.Kind != "likes" || p.TweetID != ids[0] || p.Likes != 1 {
		t.Errorf("push after like = %+v, want likes of %s = 1", p, ids[0])
	}
}
