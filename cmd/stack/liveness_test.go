package stack_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"chirp/cmd/loadcheck"
	"chirp/cmd/stack"
	"chirp/gateway"

	"github.com/gorilla/websocket"
)

// Pushes, pings and a close racing on one socket: run under -race, the
// gateway neither panics nor stops serving others.
func TestConcurrentPushesPingsAndCloseOnOneSocket(t *testing.T) {
	url := startStack(t, func(c *stack.Config) {
		c.Gateway = gateway.Config{ID: "gwrace", PingInterval: 2 * time.Millisecond, PongWait: time.Second}
	})
	author := signup(t, url, "author")
	author.OnPush(func(p loadcheck.Push) {})
	for round := 0; round < 10; round++ {
		r := signup(t, url, "reader")
		r.follow(author.handle)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := author.do("post", map[string]any{"text": fmt.Sprintf("round %d post %d", round, i)}); err != nil {
					t.Errorf("post: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(round) * time.Millisecond)
			r.Close()
		}()
		wg.Wait()
	}
	// The gateway still serves: a fresh account posts and sees its push.
	c := signup(t, url, "after")
	tw := c.post("still here")
	c.nextTweetPush(tw.ID)
}

// A client that answers no pings is closed once the pong wait passes.
func TestSocketWithoutPongsIsClosed(t *testing.T) {
	url := startStack(t, func(c *stack.Config) {
		c.Gateway = gateway.Config{ID: "gwpong", PingInterval: 50 * time.Millisecond, PongWait: 300 * time.Millisecond}
	})
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// gorilla answers pings only while reading; read the raw TCP stream
	// instead so no pong is ever sent.
	raw := ws.NetConn()
	start := time.Now()
	_ = raw.SetReadDeadline(time.Now().Add(waitFor))
	buf := make([]byte, 4096)
	var got strings.Builder
	for {
		n, err := raw.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("socket still open after %v without pongs", time.Since(start))
			}
			break // closed by the server
		}
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the pong wait", d)
	}
	if !strings.Contains(got.String(), "\x89") { // a ping frame's first byte
		t.Fatalf("no ping frame seen before the close")
	}
}
