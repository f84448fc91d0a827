package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"chirp/cmd/crashtest"

	"github.com/nats-io/nats.go"
)

// natsSystem is the raw NATS ceiling: one core NATS subscription per
// simulated client (all on one connection feeding one channel, the shape
// of the gateway's push path), and a publisher that sends every delivery
// as its own message of a Chirp push's size, with no business logic and no
// batching.
type natsSystem struct {
	cfg     Config
	proc    *crashtest.Proc // nil when targeting cfg.NATSURL
	procs   []Proc
	work    *Workload
	pub     *nats.Conn
	sub     *nats.Conn
	subject []string // per socket
	ch      chan *nats.Msg
	tags    tagTable
	res     *SystemResult
	payload func(tag byte, k int) []byte

	published atomic.Int64
	dropped   atomic.Int64 // slow-consumer errors
	done      chan struct{}
}

// natsBacklog bounds the closed loop: messages published and not yet
// received before the publisher waits.
const natsBacklog = 50_000

func startNATS(ctx context.Context, cfg Config, work *Workload, handles []string, res *SystemResult) (*natsSystem, error) {
	s := &natsSystem{cfg: cfg, work: work, res: res, done: make(chan struct{})}
	res.SocketErrors = map[string]int{}
	self := Proc{Name: "bench client", Pid: os.Getpid()}
	url := cfg.NATSURL
	if url == "" {
		dir := filepath.Join(cfg.WorkDir, "nats")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("nats work folder: %w", err)
		}
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p := &crashtest.Proc{
			Name: "nats-server", Path: cfg.NATSServerBin, Log: filepath.Join(dir, "nats.log"),
			Args: []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port)}, Env: os.Environ(), Ready: "Server is ready",
		}
		if err := p.Start(); err != nil {
			return nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = p.WaitReady(wctx)
		cancel()
		if err != nil {
			p.Stop()
			return nil, err
		}
		s.proc, url = p, "nats://127.0.0.1:"+strconv.Itoa(port)
		s.procs = append(s.procs, Proc{Name: "nats-server", Pid: p.Pid(), Server: true})
		res.What = "nats-server as its own process, core NATS, one subscription per client on one connection; closed loop: the publishers pause while 50,000 messages are unreceived"
	} else {
		res.What = "the NATS server at " + url + ", one subscription per client on one connection"
	}
	s.procs = append(s.procs, self)
	res.SocketProc = "nats-server"
	if s.proc == nil {
		res.SocketProc = ""
	}

	var err error
	if s.pub, err = nats.Connect(url, nats.Name("bench-pub")); err != nil {
		s.stop()
		return nil, fmt.Errorf("connect publisher: %w", err)
	}
	if s.sub, err = nats.Connect(url, nats.Name("bench-sub"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if err == nats.ErrSlowConsumer {
			s.dropped.Add(1)
		}
	})); err != nil {
		s.stop()
		return nil, fmt.Errorf("connect subscriber: %w", err)
	}
	s.payload = func(tag byte, k int) []byte {
		return pushPayload(handles[work.Authors[work.Post(k)]], postText(tag, k, cfg.TextBytes))
	}
	before := s.serverRSS()
	s.ch = make(chan *nats.Msg, 1<<16)
	s.subject = make([]string, work.Sockets)
	for i := range s.subject {
		s.subject[i] = "bench.s." + strconv.Itoa(i)
		if _, err := s.sub.ChanSubscribe(s.subject[i], s.ch); err != nil {
			s.stop()
			return nil, fmt.Errorf("subscribe: %w", err)
		}
	}
	if err := s.sub.Flush(); err != nil {
		s.stop()
		return nil, fmt.Errorf("flush subscriptions: %w", err)
	}
	for range 2 {
		go s.receive()
	}
	_ = sleep(ctx, time.Second)
	res.SocketsOpen, res.RSSBefore, res.RSSWithSockets = work.Sockets, before, s.serverRSS()
	res.PayloadBytes = len(s.payload('a', 1000))
	res.DeliveriesPerPst = work.Fanout()
	return s, nil
}

func (s *natsSystem) serverRSS() int64 {
	if s.proc == nil {
		return 0
	}
	if ps, err := ReadProc(s.proc.Pid()); err == nil {
		return ps.RSS
	}
	return 0
}

func (s *natsSystem) receive() {
	for {
		select {
		case <-s.done:
			return
		case m := <-s.ch:
			now := time.Now()
			if tag, k, ok := parseMarker(m.Data); ok {
				if ph := s.tags.get(tag); ph != nil {
					ph.arrive(k, now)
				}
			}
		}
	}
}

// reset starts a phase's count of published messages.
func (s *natsSystem) reset() { s.published.Store(0) }

// send publishes post k: one message per recipient. In the closed loop it
// first waits while natsBacklog messages are still on their way.
func (s *natsSystem) send(ph *phase, closed bool) sendFunc {
	return func(ctx context.Context, k int) (int, string) {
		if closed {
			// Bounded by time too: dropped messages (a slow consumer)
			// would otherwise hold the backlog above the mark for ever.
			limit := ph.start.Add(s.cfg.Duration + s.cfg.Settle)
			for s.published.Load()-ph.delivered.Load() > natsBacklog && ctx.Err() == nil && time.Now().Before(limit) {
				time.Sleep(100 * time.Microsecond)
			}
		}
		ai := s.work.Post(k)
		data := s.payload(ph.tag, k)
		for _, r := range s.work.Recipients[ai] {
			if err := s.pub.Publish(s.subject[r], data); err != nil {
				return 0, "publish: " + err.Error()
			}
		}
		s.published.Add(int64(len(s.work.Recipients[ai])))
		return len(s.work.Recipients[ai]), ""
	}
}

func (s *natsSystem) stop() {
	s.res.Procs = procTotals(s.procs)
	if n := s.dropped.Load(); n > 0 {
		s.res.SocketErrors["slow consumer (messages dropped)"] += int(n)
	}
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	if s.pub != nil {
		s.pub.Close()
	}
	if s.sub != nil {
		s.sub.Close()
	}
	if s.proc != nil {
		s.proc.Stop()
	}
}
