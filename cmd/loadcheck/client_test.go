package loadcheck

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// scriptServer answers each request with the frames script returns for it.
func scriptServer(t *testing.T, script func(req map[string]any) []string) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var req map[string]any
			if err := json.Unmarshal(data, &req); err != nil {
				return
			}
			for _, f := range script(req) {
				if f == "CLOSE" {
					return
				}
				if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestConnRepliesAndPushes(t *testing.T) {
	var held string // id of the held "slow" request
	url := scriptServer(t, func(req map[string]any) []string {
		id := req["id"].(string)
		switch req["op"] {
		case "slow": // answered together with the next request, in one array frame
			held = id
			return nil
		case "fast":
			return []string{`[{"re":"` + id + `","ok":true,"n":2},{"push":"tweet","seq":7,"tweet":{"id":"t1","author":"a","text":"hi","at":"2025-03-01T12:00:00.000Z","likes":0}},{"re":"` + held + `","ok":true,"n":1}]`}
		case "fail":
			return []string{`{"re":"` + id + `","ok":false,"error":{"code":"rate_limited","message":"slow down","retry_after_ms":250}}`}
		case "junk":
			return []string{`not json`, `{"re":"nobody","ok":true}`, `{"push":"likes","seq":8,"tweet":"t1","likes":3}`, `{"re":"` + id + `","ok":true}`}
		}
		return []string{"CLOSE"}
	})
	ctx := context.Background()
	c, err := Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	var pushes []Push
	var protoErrs []string
	c.OnPush(func(p Push) { mu.Lock(); pushes = append(pushes, p); mu.Unlock() })
	c.OnProtocolError(func(err error) { mu.Lock(); protoErrs = append(protoErrs, err.Error()); mu.Unlock() })

	// Pipelining: the slow request's reply arrives after the fast one's.
	slowDone := make(chan Reply, 1)
	go func() {
		r, err := c.Do(ctx, "slow", nil)
		if err != nil {
			t.Error(err)
		}
		slowDone <- r
	}()
	time.Sleep(50 * time.Millisecond) // let "slow" go out first
	fast, err := c.Do(ctx, "fast", map[string]any{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	slow := <-slowDone
	var n1, n2 int
	if err := slow.Decode("n", &n1); err != nil || n1 != 1 {
		t.Errorf("slow n = %d (%v), want 1", n1, err)
	}
	if err := fast.Decode("n", &n2); err != nil || n2 != 2 {
		t.Errorf("fast n = %d (%v), want 2", n2, err)
	}

	_, err = c.Do(ctx, "fail", nil)
	var se *ServerError
	if !errors.As(err, &se) || se.Code != "rate_limited" || se.RetryAfterMs != 250 || errorCode(err) != "rate_limited" {
		t.Errorf("fail: err = %#v", err)
	}

	if _, err := c.Do(ctx, "junk", nil); err != nil {
		t.Errorf("junk: %v", err)
	}
	mu.Lock()
	if len(pushes) != 2 || pushes[0].Kind != "tweet" || pushes[0].Seq != 7 || pushes[0].Tweet.Text != "hi" ||
		pushes[1].Kind != "likes" || pushes[1].TweetID != "t1" || pushes[1].Likes != 3 {
		t.Errorf("pushes = %+v", pushes)
	}
	if len(protoErrs) != 2 {
		t.Errorf("protocol errors = %q, want 2 (bad JSON, unmatched reply)", protoErrs)
	}
	mu.Unlock()

	// The server hangs up: calls fail with ErrClosed, and Done closes.
	if _, err := c.Do(ctx, "bye", nil); !errors.Is(err, ErrClosed) || errorCode(err) != "transport" {
		t.Errorf("after hang-up: err = %v", err)
	}
	select {
	case <-c.Done():
	case <-time.After(time.Second):
		t.Error("Done not closed after the server hung up")
	}
	if _, err := c.Do(ctx, "again", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: err = %v", err)
	}
}

func TestConnTimeout(t *testing.T) {
	url := scriptServer(t, func(req map[string]any) []string { return nil }) // never answers
	c, err := Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, "x", nil); errorCode(err) != "timeout" {
		t.Errorf("err = %v, want a timeout", err)
	}
}

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
		push    string // kind when a push
		pushErr bool
	}{
		{in: `{"re":"1","ok":true,"tweet":{}}`},
		{in: `{"re":"1","ok":false}`}, // error object filled in as malformed_error
		{in: `{"re":1,"ok":true}`, wantErr: true},
		{in: `{"re":"1"}`, wantErr: true},
		{in: `{"re":"1","ok":null}`, wantErr: true},
		{in: `null`, wantErr: true},
		{in: `{"hello":1}`, wantErr: true},
		{in: `{"push":"likes","seq":3,"tweet":"t","likes":1}`, push: "likes"},
		{in: `{"push":"likes","seq":3,"tweet":"t"}`, push: "likes", pushErr: true},
		{in: `{"push":"tweet","seq":null,"tweet":{"id":"t"}}`, push: "tweet", pushErr: true},
		{in: `{"push":"tweet","seq":1,"tweet":"t"}`, push: "tweet", pushErr: true},
		{in: `{"push":"party","seq":1}`, push: "party", pushErr: true},
	}
	for _, tc := range tests {
		m, err := decodeMessage(json.RawMessage(tc.in), time.Now())
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %t", tc.in, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if tc.push == "" {
			if m.reply == nil || (!m.reply.OK && m.reply.Error.Code != "malformed_error") {
				t.Errorf("%s: reply = %+v", tc.in, m.reply)
			}
			continue
		}
		if m.push == nil || m.push.Kind != tc.push || (m.push.Err != nil) != tc.pushErr {
			t.Errorf("%s: push = %+v, want kind %s, error %t", tc.in, m.push, tc.push, tc.pushErr)
		}
	}
}

func TestSplitFrame(t *testing.T) {
	tests := []struct {
		in      string
		n       int
		wantErr bool
	}{
		{`{"re":"1"}`, 1, false},
		{` [{"re":"1"},{"push":"x"}]`, 2, false},
		{`[]`, 0, false},
		{`[{"re":"1"}`, 0, true},
		{``, 0, true},
	}
	for _, tc := range tests {
		items, err := splitFrame([]byte(tc.in))
		if (err != nil) != tc.wantErr || len(items) != tc.n {
			t.Errorf("splitFrame(%q) = %d items, err %v; want %d, error %t", tc.in, len(items), err, tc.n, tc.wantErr)
		}
	}
}

// TestConnOnFrameTakesPushFramesAndLeavesReplies: a frame the OnFrame
// handler takes is not decoded (no OnPush), one it declines is, and a
// reply still reaches its Do call through the source address asked for.
func TestConnOnFrameTakesPushFramesAndLeavesReplies(t *testing.T) {
	url := scriptServer(t, func(req map[string]any) []string {
		id := req["id"].(string)
		return []string{
			`{"push":"tweet","seq":1,"tweet":{"id":"t1","author":"a","text":"raw","at":"2025-03-01T12:00:00.000Z","likes":0}}`,
			`[{"push":"tweet","seq":2,"tweet":{"id":"t2","author":"a","text":"decoded","at":"2025-03-01T12:00:00.000Z","likes":0}},{"re":"` + id + `","ok":true}]`,
		}
	})
	c, err := DialWith(context.Background(), url, DialOptions{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, 9)}, ReadBufferSize: 1024, WriteBufferSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	var raw, decoded []string
	c.OnFrame(func(data []byte, at time.Time) bool {
		if at.IsZero() {
			t.Error("OnFrame without an arrival time")
		}
		mu.Lock()
		defer mu.Unlock()
		raw = append(raw, string(data))
		return !strings.Contains(string(data), `"re":`)
	})
	c.OnPush(func(p Push) { mu.Lock(); decoded = append(decoded, p.Tweet.Text); mu.Unlock() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Do(ctx, "ping", nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(raw) != 2 || len(decoded) != 1 || decoded[0] != "decoded" {
		t.Errorf("OnFrame saw %d frames, OnPush got %q: want 2 frames and only the declined frame's push", len(raw), decoded)
	}
	if got := c.ws.LocalAddr().(*net.TCPAddr).IP.String(); got != "127.0.1.9" {
		t.Errorf("source address %s, want 127.0.1.9", got)
	}
}
