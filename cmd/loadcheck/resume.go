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
}

// ResumerStats is what a Resumer did.
type ResumerStats struct {
	Connects int      // sockets authenticated
	Resumes  []string // auths with since that got ok, with the since and URL
	Errors   []string // failed dials and auths (the first 10)
	URL      string   // the gateway it is connected to now, or dials next
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
	c.OnPush(r.add)
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

func (r *Resumer) add(p Push) {
	p.Fields = nil
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pushes = append(r.pushes, p)
	if p.Err == nil && p.Seq > r.lastSeq {
		r.lastSeq = p.Seq
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
	return ResumerStats{Connects: r.connects, Resumes: slices.Clone(r.resumes), Errors: slices.Clone(r.errs), URL: r.URLs[r.cur]}
}
