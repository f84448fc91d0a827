package loadcheck

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Resumer keeps one account connected to a stack with several gateways and
// records every push it gets. When its socket drops it reconnects, to the
// next gateway in URLs, and authenticates with the token and since set to
// the last seq it saw, so the gateway replays what it missed: across all
// its sockets the account should see each push once, seqs 1, 2, 3, ...
//
// Seqs of one account go up by one. A push whose seq jumps ahead on a live
// socket means pushes were missed there (its gateway's NATS link dropped
// them): the Resumer counts a gap, drops that socket and resumes from the
// last seq it holds, so Pushes stays the account's contiguous sequence. A
// seq at or below the last one is a duplicate: counted, not kept.
type Resumer struct {
	URLs    []string // gateways, tried in turn from URLs[0]
	Handle  string
	Token   string
	Timeout time.Duration // per dial and per auth

	mu       sync.Mutex
	pushes   []Push
	lastSeq  int64
	hasSeq   bool // a push arrived, or a resume was asked for
	cur      int
	connects int
	resumes  []string // "since <n> on <url>" for each resume that got ok
	errs     []string // failed dials and auths, the first few
	gen      int      // the current socket's number; pushes of older ones are ignored
	dropGen  int      // the socket dropped for a gap
	gaps     []string // seq jumps seen on live sockets
	dups     []string // pushes whose seq was not above the last
}

// ResumerStats is what a Resumer did.
type ResumerStats struct {
	Connects int      // sockets authenticated
	Resumes  []string // auths with since that got ok, with the since and URL
	Errors   []string // failed dials and auths (the first 10)
	URL      string   // the gateway it is connected to now, or dials next
	Gaps     []string // seq jumps on live sockets, each repaired by a resume
	Dups     []string // pushes that repeated or went back on a seq
}

// Run connects and reconnects until ctx ends, then closes the socket.
func (r *Resumer) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		c, err := r.connect(ctx)
		if err != nil {
			r.note(err)
			r.next()
			if sleepCtx(ctx, backoff) != nil {
				return
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		select {
		case <-ctx.Done():
			c.Close()
			return
		case <-c.Done():
			r.next()
		}
	}
}

// connect dials the current URL and authenticates, with since once the
// account has seen a push or has resumed before.
func (r *Resumer) connect(ctx context.Context) (*Conn, error) {
	r.mu.Lock()
	url := r.URLs[r.cur]
	fields := map[string]any{"token": r.Token}
	resume := r.hasSeq
	if resume {
		fields["since"] = r.lastSeq
	}
	r.mu.Unlock()
	dctx, cancel := context.WithTimeout(ctx, r.Timeout)
	c, err := Dial(dctx, url)
	cancel()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.gen++
	gen := r.gen
	r.mu.Unlock()
	c.OnPush(func(p Push) { r.add(c, gen, p) })
	actx, cancel := context.WithTimeout(ctx, r.Timeout)
	rep, err := c.Do(actx, "auth", fields)
	cancel()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("auth on %s: %w", url, err)
	}
	var u struct {
		Handle string `json:"handle"`
	}
	if err := rep.Decode("user", &u); err != nil || u.Handle != r.Handle {
		c.Close()
		return nil, fmt.Errorf("auth on %s as %s: reply names %q (%v)", url, r.Handle, u.Handle, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connects++
	r.hasSeq = true // from now on every reconnect resumes, since 0 included
	if resume {
		r.resumes = append(r.resumes, fmt.Sprintf("since %d on %s", fields["since"], url))
	}
	return c, nil
}

// add keeps push p of socket c, number gen, if it is the next seq.
func (r *Resumer) add(c *Conn, gen int, p Push) {
	p.Fields = nil
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.gen || gen == r.dropGen {
		return // a socket being replaced
	}
	switch {
	case p.Err == nil && p.Kind != "gap" && p.Seq == r.lastSeq+1:
		r.pushes = append(r.pushes, p)
		r.lastSeq = p.Seq
	case p.Kind != "gap" && p.Seq > r.lastSeq+1:
		r.gaps = append(r.gaps, fmt.Sprintf("seq %d after %d", p.Seq, r.lastSeq))
		r.dropGen = gen
		go c.Close() // Run resumes from lastSeq
	case p.Err == nil && p.Kind != "gap":
		r.dups = append(r.dups, fmt.Sprintf("%s push seq %d after seq %d", p.Kind, p.Seq, r.lastSeq))
	default: // malformed, or a gap push: kept for the check to report
		r.pushes = append(r.pushes, p)
		r.lastSeq = max(r.lastSeq, p.Seq)
	}
}

func (r *Resumer) next() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = (r.cur + 1) % len(r.URLs)
}

func (r *Resumer) note(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) < 10 {
		r.errs = append(r.errs, err.Error())
	}
}

// StartingAt returns urls rotated to start at index i (modulo their
// number): how clients spread over several gateways.
func StartingAt(urls []string, i int) []string {
	k := i % len(urls)
	return append(slices.Clone(urls[k:]), urls[:k]...)
}

// Pushes returns every push received so far, in arrival order.
func (r *Resumer) Pushes() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pushes)
}

// Stats returns what the Resumer did so far.
func (r *Resumer) Stats() ResumerStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ResumerStats{Connects: r.connects, Resumes: slices.Clone(r.resumes), Errors: slices.Clone(r.errs), URL: r.URLs[r.cur],
		Gaps: slices.Clone(r.gaps), Dups: slices.Clone(r.dups)}
}
