package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"chirp/contract"
)

// Limits bound what one client can cost the others. A zero field turns its
// limit off, so a Config without Limits is unthrottled (tests, embedding).
// Rates are per gateway: an account with sockets on two gateways gets each
// gateway's allowance.
type Limits struct {
	// WriteRate is the sustained number of writes (post, follow, like) per
	// second one account may make; WriteBurst how many it may make at once
	// (at least 1 when WriteRate is set). Over it: rate_limited with
	// retry_after_ms.
	WriteRate  float64
	WriteBurst int
	// ConnsPerAddr caps the sockets open at once from one client address
	// (an IPv6 address counts by its /64). Over it the upgrade is refused
	// with HTTP 429.
	ConnsPerAddr int
	// SignupsPerMinute caps signups from one client address, with a burst
	// of the same size. Over it: rate_limited with retry_after_ms.
	SignupsPerMinute int
	// AllowedOrigins lists the browser origins ("https://chirp.example")
	// allowed to open a socket. Empty: only pages served from the
	// gateway's own host, and clients that send no Origin (not browsers).
	// "*" allows every origin.
	AllowedOrigins []string
	// ExemptLoopback lets clients on a loopback address (127.0.0.0/8, ::1)
	// past every limit above except AllowedOrigins: a developer's stack
	// and its load tests run unthrottled. Leave it off where a reverse
	// proxy on the same host forwards the public's sockets.
	ExemptLoopback bool
}

// peer is where a connection comes from, as the limits see it.
type peer struct {
	addr   string // address key: the IP, or its /64 for IPv6
	exempt bool   // on loopback with ExemptLoopback: no limits apply
}

// peerOf derives the limits' view of a request's remote address.
func peerOf(remote string, exemptLoopback bool) peer {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return peer{addr: host}
	}
	ip = ip.Unmap().WithZone("")
	key := ip.String()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			key = p.String()
		}
	}
	return peer{addr: key, exempt: exemptLoopback && ip.IsLoopback()}
}

// bucket is a token bucket; the zero value is empty and must be filled by
// newBucket. Time is an argument, so tests drive it.
type bucket struct {
	tokens float64
	last   time.Time
}

func newBucket(burst int, now time.Time) *bucket {
	return &bucket{tokens: float64(burst), last: now}
}

// take removes one token at now, refilling rate tokens per second up to
// burst. It returns 0 when a token was taken, otherwise how long until one
// will be there (and takes none).
func (b *bucket) take(now time.Time, rate float64, burst int) time.Duration {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(float64(burst), b.tokens+dt*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return max(wait, time.Millisecond)
}

// full reports whether the bucket has refilled to burst by now, so
// forgetting it changes nothing.
func (b *bucket) full(now time.Time, rate float64, burst int) bool {
	return b.tokens+now.Sub(b.last).Seconds()*rate >= float64(burst)
}

// limiter holds every limit's state for one gateway. Reader goroutines of
// all connections call it, so it is locked; each call holds the lock for a
// map lookup and a little arithmetic.
type limiter struct {
	cfg Limits

	mu      sync.Mutex
	writes  map[string]*bucket // by account key
	signups map[string]*bucket // by address key
	conns   map[string]int     // by address key: sockets open
	swept   time.Time
}

// sweepEvery is how often full buckets are forgotten.
const sweepEvery = time.Minute

func newLimiter(cfg Limits) *limiter {
	if cfg.WriteRate > 0 && cfg.WriteBurst < 1 {
		cfg.WriteBurst = 1
	}
	return &limiter{
		cfg:     cfg,
		writes:  make(map[string]*bucket),
		signups: make(map[string]*bucket),
		conns:   make(map[string]int),
	}
}

// allowWrite takes a write token of account; it returns 0 or how long to
// wait.
func (l *limiter) allowWrite(account string, p peer, now time.Time) time.Duration {
	if l.cfg.WriteRate <= 0 || p.exempt {
		return 0
	}
	return l.take(l.writes, contract.Key(account), l.cfg.WriteRate, l.cfg.WriteBurst, now)
}

// allowSignup takes a signup token of p's address; it returns 0 or how long
// to wait.
func (l *limiter) allowSignup(p peer, now time.Time) time.Duration {
	if l.cfg.SignupsPerMinute <= 0 || p.exempt {
		return 0
	}
	return l.take(l.signups, p.addr, float64(l.cfg.SignupsPerMinute)/60, l.cfg.SignupsPerMinute, now)
}

func (l *limiter) take(m map[string]*bucket, key string, rate float64, burst int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := m[key]
	if !ok {
		b = newBucket(burst, now)
		m[key] = b
	}
	return b.take(now, rate, burst)
}

// sweep forgets full buckets once a minute, bounding memory by the
// accounts and addresses active in the last minutes. Called locked.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < sweepEvery {
		return
	}
	l.swept = now
	for k, b := range l.writes {
		if b.full(now, l.cfg.WriteRate, l.cfg.WriteBurst) {
			delete(l.writes, k)
		}
	}
	rate := float64(l.cfg.SignupsPerMinute) / 60
	for k, b := range l.signups {
		if b.full(now, rate, l.cfg.SignupsPerMinute) {
			delete(l.signups, k)
		}
	}
}

// acquireConn counts a socket of p; false means p is at its cap.
func (l *limiter) acquireConn(p peer) bool {
	if l.cfg.ConnsPerAddr <= 0 || p.exempt {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[p.addr] >= l.cfg.ConnsPerAddr {
		return false
	}
	l.conns[p.addr]++
	return true
}

// releaseConn uncounts a socket acquireConn counted.
func (l *limiter) releaseConn(p peer) {
	if l.cfg.ConnsPerAddr <= 0 || p.exempt {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[p.addr] <= 1 {
		delete(l.conns, p.addr)
		return
	}
	l.conns[p.addr]--
}

// admit decides whether a socket may be opened, answering the HTTP request
// itself when not: 503 while the gateway shuts down, 429 when the address
// is at its cap. On true the caller must call the returned release once the
// socket is done.
func (g *Gateway) admit(w http.ResponseWriter, r *http.Request) (p peer, release func(), ok bool) {
	p = peerOf(r.RemoteAddr, g.cfg.Limits.ExemptLoopback)
	if !g.life.enter() {
		http.Error(w, "the gateway is shutting down; reconnect to another one", http.StatusServiceUnavailable)
		return p, nil, false
	}
	if !g.limits.acquireConn(p) {
		g.life.leave()
		w.Header().Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("too many connections from your address (at most %d at once)", g.cfg.Limits.ConnsPerAddr), http.StatusTooManyRequests)
		return p, nil, false
	}
	return p, func() { g.limits.releaseConn(p); g.life.leave() }, true
}

// allowWrite checks the account's write rate; over it, it answers request
// id with rate_limited and returns false. Reader goroutine only.
func (c *client) allowWrite(id string) bool {
	wait := c.g.limits.allowWrite(c.handle, c.peer, time.Now())
	if wait == 0 {
		return true
	}
	c.rateLimited(id, wait, "too many writes: at most "+strconv.FormatFloat(c.g.cfg.Limits.WriteRate, 'g', -1, 64)+
		" per second, "+strconv.Itoa(max(c.g.cfg.Limits.WriteBurst, 1))+" at once")
	return false
}

// allowSignup checks the address's signup rate; over it, it answers
// request id with rate_limited and returns false.
func (c *client) allowSignup(id string) bool {
	wait := c.g.limits.allowSignup(c.peer, time.Now())
	if wait == 0 {
		return true
	}
	c.rateLimited(id, wait, "too many signups from your address: at most "+strconv.Itoa(c.g.cfg.Limits.SignupsPerMinute)+" per minute")
	return false
}

func (c *client) rateLimited(id string, wait time.Duration, msg string) {
	ms := (wait + time.Millisecond - 1) / time.Millisecond
	c.send(item{frame: errorFrame(&id, &contract.Error{Code: contract.CodeRateLimited, Message: msg, RetryAfterMS: int64(ms)})})
}
