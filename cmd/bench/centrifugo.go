package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"chirp/cmd/crashtest"

	"github.com/gorilla/websocket"
)

// centrifugoSystem is Centrifugo (memory engine) as its own process, the
// same N WebSocket clients each subscribed to its own channel "u<socket>",
// and posts offered through its HTTP API: one broadcast call per up to
// broadcastChunk recipient channels of a post.
type centrifugoSystem struct {
	cfg    Config
	proc   *crashtest.Proc
	procs  []Proc
	work   *Workload
	base   string // http://127.0.0.1:port
	apiKey string
	http   *http.Client
	conns  []*cfConn
	tags   tagTable
	res    *SystemResult
	data   func(tag byte, k int) []byte
}

// broadcastChunk is how many channels one broadcast call names at most.
const broadcastChunk = 50

type cfConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

func startCentrifugo(ctx context.Context, cfg Config, work *Workload, handles []string, res *SystemResult) (*centrifugoSystem, error) {
	if _, err := os.Stat(cfg.CentrifugoBin); err != nil {
		return nil, fmt.Errorf("no Centrifugo binary at %s (build it with `make bench-tools` or point -centrifugo at one): %w", cfg.CentrifugoBin, err)
	}
	dir := filepath.Join(cfg.WorkDir, "centrifugo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("centrifugo work folder: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	secret, apiKey := randomHex(32), randomHex(16)
	conf := map[string]any{
		"http_server": map[string]any{"address": "127.0.0.1", "port": port},
		"log":         map[string]any{"level": "error"},
		"engine":      map[string]any{"type": "memory"},
		"client": map[string]any{
			"token":           map[string]any{"hmac_secret_key": secret},
			"allowed_origins": []string{"*"},
		},
		"channel":     map[string]any{"without_namespace": map[string]any{"allow_subscribe_for_client": true}},
		"http_api":    map[string]any{"key": apiKey},
		"usage_stats": map[string]any{"disabled": true},
	}
	confPath := filepath.Join(dir, "config.json")
	b, _ := json.MarshalIndent(conf, "", "  ")
	if err := os.WriteFile(confPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("write centrifugo config: %w", err)
	}
	s := &centrifugoSystem{
		cfg: cfg, work: work, res: res, apiKey: apiKey,
		base: "http://127.0.0.1:" + strconv.Itoa(port),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}},
	}
	res.SocketErrors = map[string]int{}
	s.proc = &crashtest.Proc{
		Name: "centrifugo", Path: cfg.CentrifugoBin, Log: filepath.Join(dir, "centrifugo.log"),
		Args: []string{"--config", confPath}, Env: os.Environ(),
	}
	if err := s.proc.Start(); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		s.proc.Stop()
		return nil, fmt.Errorf("%w; log:\n%s", err, s.proc.Tail(20))
	}
	s.procs = []Proc{{Name: "centrifugo", Pid: s.proc.Pid(), Server: true}, {Name: "bench client", Pid: os.Getpid()}}
	res.What = "centrifugo " + cfg.CentrifugoVersion + " as its own process, memory engine, HMAC connection tokens, one channel per socket, HTTP API broadcast of up to 50 channels per call"
	res.SocketProc = "centrifugo"
	s.data = func(tag byte, k int) []byte {
		return pushPayload(handles[work.Authors[work.Post(k)]], postText(tag, k, cfg.TextBytes))
	}
	res.PayloadBytes = len(s.data('a', 1000))
	res.DeliveriesPerPst = work.Fanout()

	before := s.rss()
	s.conns = make([]*cfConn, work.Sockets)
	errs := newCounter()
	parallel(ctx, work.Sockets, 64, func(i int) {
		c, err := s.connect(ctx, i, secret)
		if err != nil {
			errs.add(err.Error())
			return
		}
		s.conns[i] = c
	})
	open := 0
	for _, c := range s.conns {
		if c != nil {
			open++
		}
	}
	_ = sleep(ctx, 3*time.Second)
	res.SocketsOpen, res.RSSBefore, res.RSSWithSockets = open, before, s.rss()
	for k, v := range errs.snapshot() {
		res.SocketErrors[k] += v
	}
	if open == 0 {
		s.stop()
		return nil, errors.New("no Centrifugo client could connect and subscribe")
	}
	return s, nil
}

func (s *centrifugoSystem) rss() int64 {
	if ps, err := ReadProc(s.proc.Pid()); err == nil {
		return ps.RSS
	}
	return 0
}

func (s *centrifugoSystem) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := s.api(ctx, "info", []byte("{}")); err == nil {
			return nil
		}
		_ = sleep(ctx, 100*time.Millisecond)
	}
	return errors.New("centrifugo did not answer its HTTP API within 30s")
}

// api calls method of the server HTTP API and returns the body of a 200
// answer without a top-level error.
func (s *centrifugoSystem) api(ctx context.Context, method string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", s.apiKey)
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, errors.New(errorCode(err)) // a short code for the errors table, not the URL
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var e struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(out, &e) == nil && e.Error != nil {
		return nil, fmt.Errorf("api error %d", e.Error.Code)
	}
	return out, nil
}

// connect opens client i's socket, connects with a token for user u<i> and
// subscribes to channel u<i>.
func (s *centrifugoSystem) connect(ctx context.Context, i int, secret string) (*cfConn, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4 << 10, WriteBufferSize: 1 << 10,
		NetDialContext: (&netDialer{local: sourceAddr(i)}).DialContext}
	url := "ws" + s.base[len("http"):] + "/connection/websocket"
	ws, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, errors.New("dial: " + errorCode(err))
	}
	ch := "u" + strconv.Itoa(i)
	hello := fmt.Sprintf(`{"id":1,"connect":{"token":%q}}`, hmacToken(secret, ch))
	_ = ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for id, cmd := range []string{hello, fmt.Sprintf(`{"id":2,"subscribe":{"channel":%q}}`, ch)} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
			ws.Close()
			return nil, errors.New("write: transport")
		}
		_, msg, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, errors.New("read: transport")
		}
		var r struct {
			ID    int `json:"id"`
			Error *struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg, &r); err != nil || r.ID != id+1 {
			ws.Close()
			return nil, fmt.Errorf("reply %d: unexpected %.60q", id+1, msg)
		}
		if r.Error != nil {
			ws.Close()
			return nil, fmt.Errorf("reply %d: error %d", id+1, r.Error.Code)
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &cfConn{ws: ws}
	go s.read(c)
	return c, nil
}

// read handles one client's frames: newline-separated replies and pushes;
// an empty object is the server's ping, answered with an empty object.
func (s *centrifugoSystem) read(c *cfConn) {
	for {
		_, frame, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		for line := range bytes.SplitSeq(frame, []byte("\n")) {
			line = bytes.TrimSpace(line)
			switch {
			case len(line) == 0:
			case bytes.Equal(line, []byte("{}")):
				c.wmu.Lock()
				_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
				_ = c.ws.WriteMessage(websocket.TextMessage, []byte("{}"))
				c.wmu.Unlock()
			default:
				if tag, k, ok := parseMarker(line); ok {
					if ph := s.tags.get(tag); ph != nil {
						ph.arrive(k, now)
					}
				}
			}
		}
	}
}

// send broadcasts post k to its recipients' channels, broadcastChunk
// channels per call, the calls of one post at once.
func (s *centrifugoSystem) send(ph *phase) sendFunc {
	return func(ctx context.Context, k int) (int, string) {
		ai := s.work.Post(k)
		data := s.data(ph.tag, k)
		recips := s.work.Recipients[ai]
		var wg sync.WaitGroup
		var mu sync.Mutex
		code := ""
		for lo := 0; lo < len(recips); lo += broadcastChunk {
			chans := make([]string, 0, broadcastChunk)
			for _, r := range recips[lo:min(lo+broadcastChunk, len(recips))] {
				chans = append(chans, "u"+strconv.Itoa(r))
			}
			body, _ := json.Marshal(struct {
				Channels []string        `json:"channels"`
				Data     json.RawMessage `json:"data"`
			}{chans, data})
			wg.Go(func() {
				out, err := s.api(ctx, "broadcast", body)
				fail := ""
				switch {
				case err != nil:
					fail = "broadcast: " + err.Error()
				case bytes.Contains(out, []byte(`"error"`)):
					fail = "broadcast: a channel failed"
				}
				if fail != "" {
					mu.Lock()
					code = fail
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if code != "" {
			return 0, code
		}
		return len(recips), ""
	}
}

func (s *centrifugoSystem) closedSockets() int { return 0 }

func (s *centrifugoSystem) stop() {
	s.res.Procs = procTotals(s.procs)
	for _, c := range s.conns {
		if c != nil {
			c.ws.Close()
		}
	}
	s.proc.Stop()
}

// hmacToken is an HS256 JWT whose subject is user.
func hmacToken(secret, user string) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{"sub": user})
	msg := head + "." + enc.EncodeToString(claims)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(m.Sum(nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
