package bench

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Offer is how posts are offered in one phase.
type Offer struct {
	// Rate > 0: open loop, post k is due at start + k/Rate, whether or not
	// earlier posts were answered; latency counts from that due time, so a
	// stall is not hidden. Rate == 0: closed loop, Window posts in flight
	// at once, as fast as the system answers (its throughput).
	Rate     float64
	Window   int
	Duration time.Duration
	MaxPosts int // bound on posts offered
	// MaxInFlight bounds the open loop's outstanding posts; past it the
	// scheduler waits (and the waiting shows in the latency).
	MaxInFlight int
}

// phase tracks one phase: the due time of every post offered, and every
// delivery that arrives.
type phase struct {
	tag  byte
	due  []atomic.Int64 // unix nanoseconds per post, 0 until offered
	hist *Histogram

	start     time.Time
	delivered atomic.Int64
	expected  atomic.Int64 // deliveries of accepted posts
	last      atomic.Int64 // unix nanoseconds of the latest delivery
	stray     atomic.Int64 // deliveries of posts never offered, or delivered more often than expected

	accepted atomic.Int64
	offered  atomic.Int64
	mu       sync.Mutex
	errors   map[string]int
}

func newPhase(tag byte, maxPosts int) *phase {
	return &phase{tag: tag, due: make([]atomic.Int64, maxPosts), hist: NewHistogram(), errors: map[string]int{}}
}

// arrive records the delivery of post k at now.
func (p *phase) arrive(k int, now time.Time) {
	if k < 0 || k >= len(p.due) {
		p.stray.Add(1)
		return
	}
	due := p.due[k].Load()
	if due == 0 {
		p.stray.Add(1)
		return
	}
	t := now.UnixNano()
	p.hist.Record(time.Duration(t - due))
	p.delivered.Add(1)
	for {
		l := p.last.Load()
		if t <= l || p.last.CompareAndSwap(l, t) {
			break
		}
	}
}

func (p *phase) fail(code string) {
	p.mu.Lock()
	p.errors[code]++
	p.mu.Unlock()
}

func (p *phase) errorCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.errors)
}

// sendFunc offers post k; it returns the deliveries the post should make
// and nil once the system accepted it, or an error code.
type sendFunc func(ctx context.Context, k int) (deliveries int, code string)

// run offers posts per o, calling send for each, and returns when every
// offered post has been answered (or ctx ends).
func (p *phase) run(ctx context.Context, o Offer, send sendFunc) {
	p.start = time.Now()
	end := p.start.Add(o.Duration)
	do := func(k int) {
		n, code := send(ctx, k)
		if code != "" {
			p.fail(code)
			return
		}
		p.accepted.Add(1)
		p.expected.Add(int64(n))
	}
	var wg sync.WaitGroup
	if o.Rate > 0 {
		interval := float64(time.Second) / o.Rate
		sem := make(chan struct{}, max(o.MaxInFlight, 1))
		for k := 0; k < o.MaxPosts && ctx.Err() == nil; k++ {
			due := p.start.Add(time.Duration(float64(k) * interval))
			if !due.Before(end) {
				break
			}
			if d := time.Until(due); d > 0 {
				if sleep(ctx, d) != nil {
					break
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			p.due[k].Store(due.UnixNano())
			p.offered.Add(1)
			wg.Go(func() {
				defer func() { <-sem }()
				do(k)
			})
		}
		wg.Wait()
		return
	}
	var next atomic.Int64
	for range max(o.Window, 1) {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(end) {
				k := int(next.Add(1) - 1)
				if k >= o.MaxPosts {
					return
				}
				p.due[k].Store(time.Now().UnixNano())
				p.offered.Add(1)
				do(k)
			}
		})
	}
	wg.Wait()
}

// settle waits until every expected delivery has arrived, nothing has
// arrived for quiet, or limit has passed.
func (p *phase) settle(ctx context.Context, limit, quiet time.Duration) {
	deadline := time.Now().Add(limit)
	lastCount, lastChange := p.delivered.Load(), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		n := p.delivered.Load()
		if n >= p.expected.Load() {
			return
		}
		if n != lastCount {
			lastCount, lastChange = n, time.Now()
		} else if time.Since(lastChange) > quiet {
			return
		}
		_ = sleep(ctx, 20*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errorCode classifies a failed request for the errors-by-code table.
func errorCode(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "transport"
}
