package gateway

import (
	"net/http/httptest"
	"testing"
	"time"
)

var limitsNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestBucketAllowsBurstThenRefillsAtRate(t *testing.T) {
	b := newBucket(3, limitsNow)
	for i := range 3 {
		if wait := b.take(limitsNow, 2, 3); wait != 0 {
			t.Fatalf("take %d of the burst: wait %v, want 0", i+1, wait)
		}
	}
	// Empty at 2 tokens/s: the next token is 500 ms away.
	if wait := b.take(limitsNow, 2, 3); wait != 500*time.Millisecond {
		t.Errorf("over the burst: wait %v, want 500ms", wait)
	}
	if wait := b.take(limitsNow.Add(200*time.Millisecond), 2, 3); wait != 300*time.Millisecond {
		t.Errorf("200ms later: wait %v, want 300ms", wait)
	}
	if wait := b.take(limitsNow.Add(500*time.Millisecond), 2, 3); wait != 0 {
		t.Errorf("500ms later: wait %v, want a token", wait)
	}
	// A long pause refills to the burst, no further.
	later := limitsNow.Add(time.Hour)
	for i := range 3 {
		if wait := b.take(later, 2, 3); wait != 0 {
			t.Fatalf("after a pause, take %d: wait %v", i+1, wait)
		}
	}
	if wait := b.take(later, 2, 3); wait == 0 {
		t.Error("after a pause the bucket held more than its burst")
	}
}

func TestBucketWaitIsNeverZeroWhenRefused(t *testing.T) {
	b := newBucket(1, limitsNow)
	b.take(limitsNow, 1e9, 1)
	b.tokens = 0.9999999999
	if wait := b.take(limitsNow, 1e9, 1); wait < time.Millisecond {
		t.Errorf("refused with wait %v: a client told to retry after 0 ms would spin", wait)
	}
}

func TestWriteLimitIsPerAccountAndCaseBlind(t *testing.T) {
	l := newLimiter(Limits{WriteRate: 1, WriteBurst: 2})
	p := peerOf("203.0.113.7:5555", false)
	for i := range 2 {
		if wait := l.allowWrite("Alice", p, limitsNow); wait != 0 {
			t.Fatalf("write %d: wait %v", i+1, wait)
		}
	}
	if wait := l.allowWrite("alice", p, limitsNow); wait != time.Second {
		t.Errorf("third write of alice (other case): wait %v, want 1s", wait)
	}
	if wait := l.allowWrite("bob", p, limitsNow); wait != 0 {
		t.Errorf("bob is limited by alice's writes: wait %v", wait)
	}
}

func TestLimitsOffOrLoopbackExempt(t *testing.T) {
	off := newLimiter(Limits{})
	p := peerOf("203.0.113.7:5555", false)
	for range 1000 {
		if off.allowWrite("alice", p, limitsNow) != 0 || off.allowSignup(p, limitsNow) != 0 || !off.acquireConn(p) {
			t.Fatal("a zero Limits limited something")
		}
	}
	on := Limits{WriteRate: 1, WriteBurst: 1, SignupsPerMinute: 1, ConnsPerAddr: 1, ExemptLoopback: true}
	l := newLimiter(on)
	for _, remote := range []string{"127.0.0.1:1", "127.9.9.9:1", "[::1]:1", "[::ffff:127.0.0.1]:1"} {
		lp := peerOf(remote, true)
		if !lp.exempt {
			t.Errorf("%s is not exempt", remote)
		}
		for range 100 {
			if l.allowWrite("alice", lp, limitsNow) != 0 || l.allowSignup(lp, limitsNow) != 0 || !l.acquireConn(lp) {
				t.Fatalf("loopback %s was limited", remote)
			}
		}
	}
	if peerOf("127.0.0.1:1", false).exempt {
		t.Error("loopback exempt without ExemptLoopback")
	}
	// The exemption is for loopback only.
	if l.allowWrite("carol", p, limitsNow) != 0 || l.allowWrite("carol", p, limitsNow) == 0 {
		t.Error("a public address was not limited next to an exempt loopback")
	}
}

func TestSignupLimitIsPerAddressAndPerMinute(t *testing.T) {
	l := newLimiter(Limits{SignupsPerMinute: 2})
	a, b := peerOf("198.51.100.1:1000", false), peerOf("198.51.100.1:2000", false)
	if l.allowSignup(a, limitsNow) != 0 || l.allowSignup(b, limitsNow) != 0 {
		t.Fatal("first two signups of the address refused")
	}
	// Same address, other port: same allowance, now used up.
	if wait := l.allowSignup(a, limitsNow); wait != 30*time.Second {
		t.Errorf("third signup: wait %v, want 30s (2 per minute)", wait)
	}
	if l.allowSignup(peerOf("198.51.100.2:1000", false), limitsNow) != 0 {
		t.Error("another address shares the allowance")
	}
	if l.allowSignup(a, limitsNow.Add(30*time.Second)) != 0 {
		t.Error("no signup 30s later")
	}
}

func TestPeerGroupsIPv6ByPrefix(t *testing.T) {
	tests := map[string]string{
		"198.51.100.1:80":            "198.51.100.1",
		"[::ffff:198.51.100.1]:80":   "198.51.100.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":           "fe80::/64",
		"not an address":             "not an address",
	}
	for remote, want := range tests {
		if got := peerOf(remote, false).addr; got != want {
			t.Errorf("peerOf(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestConnCapCountsOpenSockets(t *testing.T) {
	l := newLimiter(Limits{ConnsPerAddr: 2})
	p := peerOf("198.51.100.1:1", false)
	if !l.acquireConn(p) || !l.acquireConn(p) {
		t.Fatal("first two sockets refused")
	}
	if l.acquireConn(p) {
		t.Fatal("third socket admitted over a cap of 2")
	}
	if !l.acquireConn(peerOf("198.51.100.2:1", false)) {
		t.Error("another address refused")
	}
	l.releaseConn(p)
	if !l.acquireConn(p) {
		t.Error("a socket closed but its slot was not freed")
	}
	l.releaseConn(p)
	l.releaseConn(p)
	if _, ok := l.conns[p.addr]; ok {
		t.Error("an address with no sockets is still counted")
	}
}

func TestSweepForgetsOnlyFullBuckets(t *testing.T) {
	l := newLimiter(Limits{WriteRate: 1, WriteBurst: 10, SignupsPerMinute: 6})
	p := peerOf("198.51.100.1:1", false)
	l.allowWrite("idle", p, limitsNow)
	l.allowSignup(p, limitsNow)
	for range 10 {
		l.allowWrite("busy", p, limitsNow.Add(sweepEvery))
	}
	// One minute on: idle refilled (1 token in 60 s), busy is empty.
	l.allowWrite("other", p, limitsNow.Add(sweepEvery+time.Second))
	if _, ok := l.writes["idle"]; ok {
		t.Error("a full bucket survived the sweep")
	}
	if _, ok := l.writes["busy"]; !ok {
		t.Error("a bucket still refilling was forgotten: its account would get a fresh burst")
	}
	if _, ok := l.signups[p.addr]; ok {
		t.Error("a full signup bucket survived the sweep")
	}
}

func TestOriginCheck(t *testing.T) {
	type tc struct {
		host, origin string
		ok           bool
	}
	tests := []struct {
		name    string
		allowed []string
		cases   []tc
	}{
		{"empty: same host or no Origin", nil, []tc{
			{"chirp.example", "", true},
			{"chirp.example", "https://chirp.example", true},
			{"127.0.0.1:8080", "http://127.0.0.1:8080", true},
			{"chirp.example", "https://CHIRP.example", true},
			{"chirp.example", "https://evil.example", false},
			{"chirp.example:8080", "https://chirp.example", false},
			{"chirp.example", "null", false},
			{"chirp.example", "::not a url", false},
		}},
		{"list", []string{"https://chirp.example", " https://App.Chirp.example/ "}, []tc{
			{"gw.internal", "", true},
			{"gw.internal", "https://chirp.example", true},
			{"gw.internal", "https://app.chirp.example", true},
			{"gw.internal", "http://chirp.example", false},
			{"gw.internal", "https://gw.internal", false},
		}},
		{"star", []string{"*"}, []tc{
			{"chirp.example", "https://anything.example", true},
			{"chirp.example", "", true},
		}},
	}
	for _, tt := range tests {
		check := originCheck(tt.allowed)
		for _, c := range tt.cases {
			r := httptest.NewRequest("GET", "http://"+c.host+"/ws", nil)
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if got := check(r); got != c.ok {
				t.Errorf("%s: host %q origin %q: allowed %t, want %t", tt.name, c.host, c.origin, got, c.ok)
			}
		}
	}
}
