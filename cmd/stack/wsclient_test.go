package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chirp/cmd/loadcheck"
	"chirp/cmd/stack"
	"chirp/gateway"

	"github.com/gorilla/websocket"
)

// Helpers shared by the integration tests: a real stack (embedded NATS on a
// random loopback port, JetStream in a temp dir, the three services and the
// gateway) and real WebSocket clients. Nothing here mocks NATS or sockets.

const (
	testPassword = "correct horse"
	// bcryptMinCost is bcrypt.MinCost: the tests hash many passwords.
	bcryptMinCost = 4
	waitFor       = 10 * time.Second // upper bound on any single wait
)

// startStack runs a stack for one test and closes it when the test ends.
// edit, if not nil, adjusts the configuration first. It returns the
// WebSocket URL.
func startStack(t *testing.T, edit func(*stack.Config)) string {
	t.Helper()
	return "ws://" + runStack(t, edit).HTTPAddr + "/ws"
}

// runStack is startStack returning the stack itself.
func runStack(t *testing.T, edit func(*stack.Config)) *stack.Stack {
	t.Helper()
	cfg := stack.Config{
		HTTPAddr:   "127.0.0.1:0",
		NATSListen: "127.0.0.1:0",
		DataDir:    t.TempDir(),
		BcryptCost: bcryptMinCost,
		Gateway:    gateway.Config{ID: "gwtest"},
		Log:        testLogger(),
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		cancel()
	})
	return s
}

var handleSeq atomic.Int64

// newHandle returns a handle no other test uses: base plus a number.
func newHandle(base string) string {
	return fmt.Sprintf("%s_%d", base, handleSeq.Add(1))
}

// client is a loadcheck connection that records its pushes.
type client struct {
	*loadcheck.Conn
	t      *testing.T
	handle string
	pushes chan loadcheck.Push
}

// dial opens a connection acting as nobody yet.
func dial(t *testing.T, url string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := loadcheck.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &client{Conn: c, t: t, pushes: make(chan loadcheck.Push, 1024)}
	c.OnPush(func(p loadcheck.Push) { cl.pushes <- p })
	c.OnProtocolError(func(err error) { t.Errorf("protocol error: %v", err) })
	return cl
}

// signup opens a connection and signs up a fresh account on it.
func signup(t *testing.T, url, base string) *client {
	t.Helper()
	c := dial(t, url)
	c.handle = newHandle(base)
	c.ok("signup", map[string]any{"handle": c.handle, "password": testPassword})
	return c
}

// do sends one request and returns the reply; err is a *loadcheck.ServerError
// for ok=false.
func (c *client) do(op string, fields map[string]any) (loadcheck.Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	return c.Do(ctx, op, fields)
}

// ok sends a request that must succeed.
func (c *client) ok(op string, fields map[string]any) loadcheck.Reply {
	c.t.Helper()
	rep, err := c.do(op, fields)
	if err != nil {
		c.t.Fatalf("%s %v as %q: %v", op, fields, c.handle, err)
	}
	return rep
}

// fail sends a request that must fail with code, and returns the error.
func (c *client) fail(code, op string, fields map[string]any) *loadcheck.ServerError {
	c.t.Helper()
	_, err := c.do(op, fields)
	var se *loadcheck.ServerError
	if !errors.As(err, &se) {
		c.t.Fatalf("%s %v: want error %s, got %v", op, fields, code, err)
	}
	if se.Code != code {
		c.t.Fatalf("%s %v: want error %s, got %s (%s)", op, fields, code, se.Code, se.Message)
	}
	if se.Message == "" {
		c.t.Errorf("%s %v: error %s has no message", op, fields, code)
	}
	return se
}

// post posts text and returns the tweet of the reply.
func (c *client) post(text string) loadcheck.Tweet {
	c.t.Helper()
	var tw loadcheck.Tweet
	if err := c.ok("post", map[string]any{"text": text}).Decode("tweet", &tw); err != nil {
		c.t.Fatal(err)
	}
	return tw
}

func (c *client) follow(handle string) {
	c.t.Helper()
	c.ok("follow", map[string]any{"handle": handle})
}

func (c *client) like(id string) int64 {
	c.t.Helper()
	var n int64
	if err := c.ok("like", map[string]any{"tweet": id}).Decode("likes", &n); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// feedPage reads one page; next is "" at the end.
func (c *client) feedPage(fields map[string]any) (tweets []loadcheck.Tweet, next string) {
	c.t.Helper()
	rep := c.ok("feed", fields)
	if err := rep.Decode("tweets", &tweets); err != nil {
		c.t.Fatal(err)
	}
	if rep.Has("next") {
		if err := rep.Decode("next", &next); err != nil || next == "" {
			c.t.Fatalf("feed: next present but not a cursor: %v", err)
		}
	}
	return tweets, next
}

// feedIDs reads the first page (limit 200) and returns its tweet ids.
func (c *client) feedIDs() []string {
	c.t.Helper()
	tweets, _ := c.feedPage(map[string]any{"limit": 200})
	return ids(tweets)
}

func ids(tweets []loadcheck.Tweet) []string {
	out := make([]string, len(tweets))
	for i, tw := range tweets {
		out[i] = tw.ID
	}
	return out
}

// nextPush waits for the next push.
func (c *client) nextPush() loadcheck.Push {
	c.t.Helper()
	select {
	case p := <-c.pushes:
		if p.Err != nil {
			c.t.Fatalf("malformed push: %v", p.Err)
		}
		return p
	case <-time.After(waitFor):
		c.t.Fatalf("%s: no push within %v", c.handle, waitFor)
		return loadcheck.Push{}
	}
}

// nextTweetPush waits for the next push and requires it to be the tweet id.
func (c *client) nextTweetPush(id string) loadcheck.Push {
	c.t.Helper()
	p := c.nextPush()
	if p.Kind != "tweet" || p.TweetID != id {
		c.t.Fatalf("%s: want tweet push of %s, got %s push of %s (seq %d)", c.handle, id, p.Kind, p.TweetID, p.Seq)
	}
	return p
}

// noPushQueued fails if a push has arrived that nobody consumed.
func (c *client) noPushQueued() {
	c.t.Helper()
	select {
	case p := <-c.pushes:
		c.t.Fatalf("%s: unexpected %s push of %s (seq %d)", c.handle, p.Kind, p.TweetID, p.Seq)
	default:
	}
}

var atLayout = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// checkTweet requires the protocol's tweet shape.
func checkTweet(t *testing.T, tw loadcheck.Tweet, author, text string, likes int64) {
	t.Helper()
	if tw.ID == "" || tw.Author != author || tw.Text != text || tw.Likes != likes {
		t.Errorf("tweet %+v: want author %q text %q likes %d", tw, author, text, likes)
	}
	if !atLayout.MatchString(tw.At) {
		t.Errorf("tweet %s: at %q is not RFC 3339 UTC with milliseconds", tw.ID, tw.At)
	}
}

// raw is a bare WebSocket for frames loadcheck.Conn would never send.
type raw struct {
	t  *testing.T
	ws *websocket.Conn
	mu sync.Mutex
}

func dialRaw(t *testing.T, url string) *raw {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitFor}
	ws, resp, err := d.Dial(url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.Close() })
	return &raw{t: t, ws: ws}
}

func (r *raw) send(kind int, frame []byte) {
	r.t.Helper()
	_ = r.ws.SetWriteDeadline(time.Now().Add(waitFor))
	if err := r.ws.WriteMessage(kind, frame); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *raw) sendText(frame string) { r.t.Helper(); r.send(websocket.TextMessage, []byte(frame)) }

// object is one decoded reply or push.
type object map[string]json.RawMessage

func (o object) str(name string) (string, bool) {
	var s string
	v, ok := o[name]
	if !ok || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// errorCode returns the error code of a failed reply, "" otherwise.
func (o object) errorCode() string {
	var e struct {
		Code string `json:"code"`
	}
	if string(o["ok"]) != "false" || json.Unmarshal(o["error"], &e) != nil {
		return ""
	}
	return e.Code
}

// readFrame reads one text frame and splits it into objects, accepting a
// single object or an array of them. batched says which it was.
func (r *raw) readFrame() (objs []object, batched bool) {
	r.t.Helper()
	_ = r.ws.SetReadDeadline(time.Now().Add(waitFor))
	kind, data, err := r.ws.ReadMessage()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		r.t.Fatalf("server sent frame type %d", kind)
	}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &objs); err != nil {
			r.t.Fatalf("array frame %q: %v", data, err)
		}
		return objs, true
	}
	var o object
	if err := json.Unmarshal(data, &o); err != nil {
		r.t.Fatalf("frame %q: %v", data, err)
	}
	return []object{o}, false
}

// reply reads the next frame, which must be exactly one object.
func (r *raw) reply() object {
	r.t.Helper()
	objs, _ := r.readFrame()
	if len(objs) != 1 {
		r.t.Fatalf("want one reply, got %d objects", len(objs))
	}
	return objs[0]
}

// closeCode reads until the server closes the socket and returns the code.
func (r *raw) closeCode() int {
	r.t.Helper()
	_ = r.ws.SetReadDeadline(time.Now().Add(waitFor))
	for {
		_, _, err := r.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		r.t.Fatalf("socket ended without a close frame: %v", err)
		return 0
	}
}

// mustContainInOrder fails unless got equals want.
func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}
