package stack_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"chirp/cmd/loadcheck"
	"chirp/cmd/stack"
	"chirp/gateway"

	"github.com/gorilla/websocket"
)

// stalledClient signs up and follows followee, then never reads again.
func stalledClient(t *testing.T, url, handle, followee string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial stalled client: %v", err)
	}
	for i, f := range []string{
		fmt.Sprintf(`{"id":"1","op":"signup","handle":%q,"password":%q}`, handle, testPassword),
		fmt.Sprintf(`{"id":"2","op":"follow","handle":%q}`, followee),
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(waitFor))
		_, b, err := ws.ReadMessage()
		if err != nil || !strings.Contains(string(b), `"ok":true`) {
			t.Fatalf("stalled client request %d: %s %v", i+1, b, err)
		}
	}
	return ws
}

// pushRun records what the readers of one scenario saw.
type pushRun struct {
	mu        sync.Mutex
	sent      map[string]time.Time
	latencies []time.Duration
	got       map[string]int
}

func TestStalledClientIsClosedAndOthersGetEveryPush(t *testing.T) {
	url := startStack(t, func(c *stack.Config) {
		c.Gateway = gateway.Config{ID: "gwslow", SendQueue: 64, WriteTimeout: 2 * time.Second}
	})
	base, _ := runStalled(t, url, 10, 300, false)
	lat, stalledEnded := runStalled(t, url, 10, 5000, true)
	if !stalledEnded {
		t.Fatal("the stalled client's socket is still open after its queue overflowed")
	}
	// Figures, not a pass/fail bound: this box is shared and noisy.
	t.Logf("post-to-push latency of 10 reading clients: alone p50 %v p99 %v; with one stalled client p50 %v p99 %v",
		pct(base, 50), pct(base, 99), pct(lat, 50), pct(lat, 99))
}

// runStalled runs the scenario and reports the readers' latencies and
// whether the stalled socket (if any) was closed by the server.
func runStalled(t *testing.T, url string, readers, posts int, withStalled bool) ([]time.Duration, bool) {
	author := signup(t, url, "author")
	author.OnPush(func(loadcheck.Push) {}) // its own tweets' pushes
	run := &pushRun{sent: map[string]time.Time{}, got: map[string]int{}}
	var cs []*client
	for i := 0; i < readers; i++ {
		c := signup(t, url, "reader")
		c.follow(author.handle)
		name := c.handle
		c.OnPush(func(p loadcheck.Push) {
			if p.Tweet == nil {
				return
			}
			run.mu.Lock()
			run.latencies = append(run.latencies, p.Received.Sub(run.sent[p.Tweet.Text]))
			run.got[name]++
			run.mu.Unlock()
		})
		cs = append(cs, c)
	}
	var ws *websocket.Conn
	if withStalled {
		ws = stalledClient(t, url, newHandle("stalled"), author.handle)
	}
	// 4-byte characters: over a megabyte of pushes per thousand posts, so
	// the kernel's socket buffers fill long before the run ends.
	pad := strings.Repeat("\U0001D11E", 270)
	for i := 0; i < posts; i++ {
		text := fmt.Sprintf("%06d %s", i, pad)
		run.mu.Lock()
		run.sent[text] = time.Now()
		run.mu.Unlock()
		if _, err := author.do("post", map[string]any{"text": text}); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(waitFor)
	for {
		run.mu.Lock()
		done := 0
		for _, n := range run.got {
			if n == posts {
				done++
			}
		}
		run.mu.Unlock()
		if done == readers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d readers got all %d pushes: %v", done, readers, posts, run.got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ended := false
	if ws != nil {
		// Drain what the kernel buffered; the server must have closed it.
		pushes := 0
		for {
			_ = ws.SetReadDeadline(time.Now().Add(waitFor))
			_, b, err := ws.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					t.Logf("stalled client closed with %d %q", ce.Code, ce.Text)
				}
				ended = !isTimeout(err)
				break
			}
			pushes += strings.Count(string(b), `"push":"tweet"`)
		}
		t.Logf("stalled client drained %d pushes, ended=%v", pushes, ended)
		if pushes >= posts {
			t.Fatalf("the stalled client received all %d pushes: it was not stalled", pushes)
		}
		ws.Close()
	}
	for _, c := range cs {
		c.Close()
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	return append([]time.Duration(nil), run.latencies...), ended
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func testLogger() *slog.Logger {
	if os.Getenv("CHIRP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}
