package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"chirp/cmd/crashtest"
	"chirp/cmd/loadcheck"
)

// chirpPassword is every bench account's password.
const chirpPassword = "bench-password"

// chirpSystem is the Chirp stack under test and its N client sockets.
type chirpSystem struct {
	cfg   Config
	stack *crashtest.Stack // nil when targeting cfg.ChirpURL
	url   string
	procs []Proc
	prep  *loadcheck.Prepared
	work  *Workload
	conns []*loadcheck.Conn // per socket; nil where it failed
	tags  tagTable
	res   *SystemResult
}

// startChirp starts the stack as OS processes (nats-server, user, tweet,
// feed, gateway), or targets cfg.ChirpURL.
func startChirp(ctx context.Context, cfg Config, res *SystemResult) (*chirpSystem, error) {
	s := &chirpSystem{cfg: cfg, res: res, url: cfg.ChirpURL}
	self := Proc{Name: "bench client", Pid: os.Getpid()}
	if s.url != "" {
		res.What = "a running stack at " + s.url + " (its processes are not measured)"
		s.procs = []Proc{self}
		return s, nil
	}
	dir := filepath.Join(cfg.WorkDir, "chirp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chirp work folder: %w", err)
	}
	bins := crashtest.Binaries{NATSServer: cfg.NATSServerBin, Chirp: cfg.ChirpBin}
	st, err := crashtest.StartStackWith(ctx, bins, dir, crashtest.StackOptions{
		SyncInterval: cfg.Sync,
		// Loopback clients are exempt from the limits already; the
		// request timeout is raised so an overloaded moment shows as
		// latency, not as unavailable.
		Env: []string{"CHIRP_REQUEST_TIMEOUT=30s", "CHIRP_LOG=text"},
	})
	if err != nil {
		return nil, fmt.Errorf("start chirp stack: %w", err)
	}
	s.stack, s.url = st, st.WSURL
	res.What = fmt.Sprintf("separate processes: nats-server (JetStream sync_interval %s), chirp user, tweet, feed, gateway", cfg.Sync)
	for _, name := range st.Order {
		label := "chirp " + name
		if name == crashtest.NATS {
			label = "nats-server"
		}
		s.procs = append(s.procs, Proc{Name: label, Pid: st.Procs[name].Pid(), Server: true})
	}
	s.procs = append(s.procs, self)
	res.SocketProc = "chirp gateway"
	return s, nil
}

// prepare loads the graph and opens every socket, authenticated as its
// account, noting the gateway's RSS before and after.
func (s *chirpSystem) prepare(ctx context.Context) error {
	lc := loadcheck.DefaultConfig()
	lc.URL, lc.GraphPath, lc.MaxAccounts = s.url, s.cfg.Graph, s.cfg.MaxAccounts
	lc.Password, lc.Timeout, lc.Log = chirpPassword, 30*time.Second, s.cfg.Log
	prep, err := loadcheck.Prepare(ctx, lc)
	if err != nil {
		return fmt.Errorf("load graph: %w", err)
	}
	s.prep = prep
	s.cfg.Log.Info("graph loaded", "accounts", prep.Graph.N, "follows", prep.Follows, "errors", prep.Errors)
	w, err := NewWorkload(prep.Graph, s.cfg.Sockets, s.cfg.Authors)
	if err != nil {
		return err
	}
	s.work = w

	before := s.socketRSS()
	s.conns = make([]*loadcheck.Conn, w.Sockets)
	errs := newCounter()
	parallel(ctx, w.Sockets, 64, func(i int) {
		a := w.Owner[i]
		if prep.Tokens[a] == "" {
			errs.add("no token (signup failed)")
			return
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := loadcheck.DialWith(dctx, s.url, loadcheck.DialOptions{LocalAddr: sourceAddr(i), ReadBufferSize: 4 << 10, WriteBufferSize: 1 << 10})
		if err != nil {
			errs.add("dial: " + errorCode(err))
			return
		}
		c.OnFrame(s.onFrame)
		c.OnPush(s.onPush)
		if _, err := c.Do(dctx, "auth", map[string]any{"token": prep.Tokens[a]}); err != nil {
			errs.add("auth: " + chirpCode(err))
			c.Close()
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
	_ = sleep(ctx, 3*time.Second) // let the gateway's allocations settle
	s.res.SocketsOpen, s.res.RSSBefore, s.res.RSSWithSockets = open, before, s.socketRSS()
	s.res.SocketErrors = errs.snapshot()
	s.res.PayloadBytes = len(pushPayload(prep.Handles[w.Authors[0]], postText('a', 1000, s.cfg.TextBytes)))
	s.res.DeliveriesPerPst = w.Fanout()
	if open == 0 {
		return errors.New("no socket could connect and authenticate")
	}
	return nil
}

func (s *chirpSystem) socketRSS() int64 {
	for _, p := range s.procs {
		if p.Name == s.res.SocketProc {
			if ps, err := ReadProc(p.Pid); err == nil {
				return ps.RSS
			}
		}
	}
	return 0
}

// onFrame times every bench push in a frame by its marker, without
// decoding the JSON (as lean as the other systems' receivers); it runs on
// a socket's reader. A frame holding a reply (whose tweet carries the
// marker too) is left to the client to decode, and its pushes reach
// onPush.
func (s *chirpSystem) onFrame(data []byte, received time.Time) bool {
	if bytes.Contains(data, []byte(`"re":`)) {
		return false
	}
	for rest := data; ; rest = rest[len(marker):] {
		i := bytes.Index(rest, []byte(marker))
		if i < 0 {
			return true
		}
		rest = rest[i:]
		if tag, k, ok := parseMarker(rest); ok {
			if ph := s.tags.get(tag); ph != nil {
				ph.arrive(k, received)
			}
		}
	}
}

// onPush records a decoded tweet push's arrival.
func (s *chirpSystem) onPush(p loadcheck.Push) {
	if p.Tweet == nil {
		return
	}
	if tag, k, ok := parseMarker([]byte(p.Tweet.Text)); ok {
		if ph := s.tags.get(tag); ph != nil {
			ph.arrive(k, p.Received)
		}
	}
}

// send posts post k of ph from the author's first socket.
func (s *chirpSystem) send(ph *phase) sendFunc {
	return func(ctx context.Context, k int) (int, string) {
		ai := s.work.Post(k)
		c := s.conns[s.work.Authors[ai]] // the author's first socket: socket index = account id
		if c == nil {
			return 0, "author socket not open"
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := c.Do(rctx, "post", map[string]any{"text": postText(ph.tag, k, s.cfg.TextBytes)}); err != nil {
			return 0, chirpCode(err)
		}
		return len(s.work.Recipients[ai]), ""
	}
}

func (s *chirpSystem) closedSockets() int {
	n := 0
	for _, c := range s.conns {
		if c != nil && c.Err() != nil {
			n++
		}
	}
	return n
}

func (s *chirpSystem) stop() {
	s.res.Procs = procTotals(s.procs)
	for _, c := range s.conns {
		if c != nil {
			c.Close()
		}
	}
	if s.stack != nil {
		for _, u := range s.stack.Unexpected() {
			s.res.SocketErrors["process exited: "+u]++
		}
		s.stack.Stop()
		for _, name := range s.stack.Order {
			if n := countLines(s.stack.Procs[name].Log, "slow consumer"); n > 0 {
				s.res.SocketErrors[name+" log: NATS slow-consumer episodes (pushes dropped)"] += n
			}
		}
	}
}

// chirpCode classifies a failed request: the server's error code, or
// timeout / canceled / transport.
func chirpCode(err error) string {
	if se, ok := errors.AsType[*loadcheck.ServerError](err); ok {
		return se.Code
	}
	return errorCode(err)
}

// tagTable maps a phase letter to its phase, for receivers.
type tagTable struct{ phases [26]atomic.Pointer[phase] }

func (t *tagTable) set(p *phase) { t.phases[p.tag-'a'].Store(p) }

func (t *tagTable) get(tag byte) *phase {
	if tag < 'a' || tag > 'z' {
		return nil
	}
	return t.phases[tag-'a'].Load()
}

// counter counts events by name, safely from many goroutines.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func newCounter() *counter { return &counter{m: map[string]int{}} }

func (c *counter) add(name string) {
	c.mu.Lock()
	c.m[name]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// parallel runs fn(i) for i in 0..n-1 on workers goroutines.
func parallel(ctx context.Context, n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// countLines counts the lines of file path that contain needle; 0 when it
// cannot be read.
func countLines(path, needle string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if bytes.Contains(line, []byte(needle)) {
			n++
		}
	}
	return n
}
