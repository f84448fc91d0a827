package loadcheck

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeServer is a small in-memory implementation of protocol v1, just
// enough to exercise Run end to end. bug injects one misbehaviour:
//
//	drop_push     the first tweet push to every account is lost (seq still advances)
//	stale_likes   feed tweets always show 0 likes
//	reverse_page  feed pages come oldest first
//	count_repeat  liking twice counts twice
//	die_at_like   the server goes away at the first like
type fakeServer struct {
	bug  string
	dead bool
	wss  map[*websocket.Conn]bool

	mu     sync.Mutex
	users  map[string]*fakeUser // by lower-case handle
	tokens map[string]*fakeUser
	tweets map[string]*fakeTweet
	nextID int
}

type fakeUser struct {
	handle, password string
	following        map[*fakeUser]bool
	followers        map[*fakeUser]bool
	tweets           []*fakeTweet
	seq              int64
	conns            map[*fakeConn]bool
	tweetPushes      int
}

type fakeTweet struct {
	id     string
	author *fakeUser
	text   string
	at     time.Time
	likers map[*fakeUser]bool
	likes  int
}

type fakeConn struct {
	out  chan map[string]any
	user *fakeUser
}

func startFakeServer(t *testing.T, bug string) string {
	t.Helper()
	s := &fakeServer{bug: bug, users: map[string]*fakeUser{}, tokens: map[string]*fakeUser{}, tweets: map[string]*fakeTweet{}, wss: map[*websocket.Conn]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func (s *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	dead := s.dead
	s.mu.Unlock()
	if dead {
		http.Error(w, "gone", http.StatusServiceUnavailable)
		return
	}
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.wss[ws] = true
	s.mu.Unlock()
	c := &fakeConn{out: make(chan map[string]any, 1<<16)}
	writerDone := make(chan struct{})
	go s.writer(ws, c.out, writerDone)
	defer func() {
		s.mu.Lock()
		if c.user != nil {
			delete(c.user.conns, c)
		}
		close(c.out)
		s.mu.Unlock()
		<-writerDone
		ws.Close()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var req map[string]any
		if json.Unmarshal(data, &req) != nil {
			return
		}
		s.mu.Lock()
		if s.bug == "die_at_like" && req["op"] == "like" {
			s.dead = true
			for ws := range s.wss {
				ws.NetConn().Close()
			}
		}
		if !s.dead {
			c.out <- s.do(c, req)
		}
		s.mu.Unlock()
	}
}

// writer sends queued messages, packing whatever has piled up into one array frame.
func (s *fakeServer) writer(ws *websocket.Conn, out chan map[string]any, done chan struct{}) {
	defer close(done)
	for m := range out {
		batch := []map[string]any{m}
	drain:
		for len(batch) < 50 {
			select {
			case m, ok := <-out:
				if !ok {
					break drain
				}
				batch = append(batch, m)
			default:
				break drain
			}
		}
		var v any = batch
		if len(batch) == 1 {
			v = batch[0]
		}
		data, _ := json.Marshal(v)
		if ws.WriteMessage(websocket.TextMessage, data) != nil {
			for range out { // keep draining so senders never block
			}
			return
		}
	}
}

func fail(id any, code, msg string) map[string]any {
	return map[string]any{"re": id, "ok": false, "error": map[string]any{"code": code, "message": msg}}
}

func (s *fakeServer) wire(t *fakeTweet, likes int) map[string]any {
	return map[string]any{"id": t.id, "author": t.author.handle, "text": t.text, "at": t.at.Format(AtLayout), "likes": likes}
}

func (s *fakeServer) push(u *fakeUser, m map[string]any) {
	u.seq++
	m["seq"] = u.seq
	if m["push"] == "tweet" {
		u.tweetPushes++
		if s.bug == "drop_push" && u.tweetPushes == 1 {
			return
		}
	}
	for c := range u.conns {
		c.out <- m
	}
}

func (s *fakeServer) setUser(c *fakeConn, u *fakeUser) {
	if c.user != nil {
		delete(c.user.conns, c)
	}
	c.user = u
	u.conns[c] = true
}

func (s *fakeServer) do(c *fakeConn, req map[string]any) map[string]any {
	id := req["id"]
	str := func(k string) string { v, _ := req[k].(string); return v }
	ok := func(kv ...any) map[string]any {
		m := map[string]any{"re": id, "ok": true}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	op := str("op")
	if op != "signup" && op != "login" && op != "auth" && c.user == nil {
		return fail(id, "unauthenticated", "sign in first")
	}
	switch op {
	case "signup":
		h := str("handle")
		if h == "" || !validHandle(h) || len(str("password")) < 8 {
			return fail(id, "invalid", "bad handle or password")
		}
		if s.users[strings.ToLower(h)] != nil {
			return fail(id, "conflict", "handle taken")
		}
		u := &fakeUser{handle: h, password: str("password"), following: map[*fakeUser]bool{}, followers: map[*fakeUser]bool{}, conns: map[*fakeConn]bool{}}
		s.users[strings.ToLower(h)] = u
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		tok := hex.EncodeToString(b)
		s.tokens[tok] = u
		s.setUser(c, u)
		return ok("user", map[string]any{"handle": h}, "token", tok)
	case "auth":
		u := s.tokens[str("token")]
		if u == nil {
			return fail(id, "unauthenticated", "bad token")
		}
		s.setUser(c, u)
		return ok("user", map[string]any{"handle": u.handle})
	case "post":
		s.nextID++
		t := &fakeTweet{id: fmt.Sprintf("%08d", s.nextID), author: c.user, text: str("text"), at: time.Now().UTC().Truncate(time.Millisecond), likers: map[*fakeUser]bool{}}
		s.tweets[t.id] = t
		c.user.tweets = append(c.user.tweets, t)
		s.push(c.user, map[string]any{"push": "tweet", "tweet": s.wire(t, 0)})
		for f := range c.user.followers {
			s.push(f, map[string]any{"push": "tweet", "tweet": s.wire(t, 0)})
		}
		return ok("tweet", s.wire(t, 0))
	case "follow":
		b := s.users[strings.ToLower(str("handle"))]
		if b == nil {
			return fail(id, "not_found", "no such user")
		}
		c.user.following[b], b.followers[c.user] = true, true
		return ok()
	case "like":
		t := s.tweets[str("tweet")]
		if t == nil {
			return fail(id, "not_found", "no such tweet")
		}
		if !t.likers[c.user] || s.bug == "count_repeat" {
			t.likers[c.user] = true
			t.likes++
			s.push(t.author, map[string]any{"push": "likes", "tweet": t.id, "likes": t.likes})
			for f := range t.author.followers {
				s.push(f, map[string]any{"push": "likes", "tweet": t.id, "likes": t.likes})
			}
		}
		return ok("likes", t.likes)
	case "feed":
		return s.feed(c.user, req, ok)
	}
	return fail(id, "unknown_op", "no such op")
}

func (s *fakeServer) feed(u *fakeUser, req map[string]any, ok func(kv ...any) map[string]any) map[string]any {
	limit := 50
	if l, has := req["limit"].(float64); has {
		limit = int(l)
	}
	if limit < 1 || limit > 200 {
		return fail(req["id"], "invalid", "limit")
	}
	all := slices.Clone(u.tweets)
	for f := range u.following {
		all = append(all, f.tweets...)
	}
	slices.SortFunc(all, func(a, b *fakeTweet) int {
		return cmp.Or(b.at.Compare(a.at), strings.Compare(b.id, a.id))
	})
	all = all[:min(len(all), FeedCap)]
	start := 0
	if before, has := req["before"].(string); has {
		start, _ = strconv.Atoi(before)
	}
	end := min(start+limit, len(all))
	page := []map[string]any{}
	for _, t := range all[min(start, end):end] {
		likes := t.likes
		if s.bug == "stale_likes" {
			likes = 0
		}
		page = append(page, s.wire(t, likes))
	}
	if s.bug == "reverse_page" {
		slices.Reverse(page)
	}
	if end < len(all) {
		return ok("tweets", page, "next", strconv.Itoa(end))
	}
	return ok("tweets", page)
}
