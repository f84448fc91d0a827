package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Kill is one SIGKILL the chaos loop performed.
type Kill struct {
	Target string
	At     time.Duration // since the clock's start
	Pause  time.Duration // down time before the restart
	Ready  time.Duration // since At, until the new run was ready; 0 if it never was
	Err    string        // why the restart did not get ready, if it did not
}

func (k Kill) String() string {
	s := fmt.Sprintf("%7.2fs kill -9 %-7s restart after %v", k.At.Seconds(), k.Target, k.Pause.Round(time.Millisecond))
	if k.Err != "" {
		return s + ", NOT READY: " + k.Err
	}
	return s + fmt.Sprintf(", ready %.2fs after the kill", k.Ready.Seconds())
}

// Chaos kills the stack's processes one at a time at seeded random moments
// and restarts each after a seeded random pause. Every target is killed
// once, in a seeded order, before any is killed again. The next gap starts
// only once the restarted process is ready, so at most one is down.
type Chaos struct {
	Stack    *Stack
	Targets  []string
	MinGap   time.Duration
	MaxGap   time.Duration
	MaxPause time.Duration
	Start    time.Time // the clock Kill.At is measured on
	Logf     func(format string, args ...any)

	rng   *rand.Rand
	mu    sync.Mutex
	kills []Kill
}

// NewChaos prepares a chaos loop over every process of s.
func NewChaos(s *Stack, seed uint64, start time.Time) *Chaos {
	return &Chaos{
		Stack: s, Targets: []string{User, Tweet, Feed, Gateway, NATS},
		MinGap: 3 * time.Second, MaxGap: 9 * time.Second, MaxPause: 2 * time.Second,
		Start: start, Logf: func(string, ...any) {},
		rng: rand.New(rand.NewPCG(seed, 0x6b696c6c)),
	}
}

// Run kills and restarts until ctx ends; a restart in progress is finished
// first.
func (c *Chaos) Run(ctx context.Context) {
	var order []string
	for ctx.Err() == nil {
		if len(order) == 0 {
			order = append(order, c.Targets...)
			c.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		gap := c.MinGap + time.Duration(c.rng.Int64N(int64(c.MaxGap-c.MinGap)+1))
		pause := 100*time.Millisecond + time.Duration(c.rng.Int64N(int64(c.MaxPause)))
		target := order[0]
		select {
		case <-ctx.Done():
			return
		case <-time.After(gap):
		}
		order = order[1:]
		c.killAndRestart(target, pause)
	}
}

func (c *Chaos) killAndRestart(target string, pause time.Duration) {
	p := c.Stack.Procs[target]
	k := Kill{Target: target, Pause: pause, At: time.Since(c.Start)}
	p.Kill()
	time.Sleep(pause)
	if err := p.Start(); err != nil {
		k.Err = err.Error()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		if err := p.WaitReady(ctx); err != nil {
			k.Err = err.Error()
		} else {
			k.Ready = time.Since(c.Start) - k.At
		}
		cancel()
	}
	c.Logf("chaos: %s", k)
	c.mu.Lock()
	c.kills = append(c.kills, k)
	c.mu.Unlock()
}

// Kills returns the kills so far.
func (c *Chaos) Kills() []Kill {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Kill(nil), c.kills...)
}

// Covered reports whether every target has been killed at least once.
func (c *Chaos) Covered() bool {
	seen := make(map[string]bool)
	for _, k := range c.Kills() {
		seen[k.Target] = true
	}
	for _, t := range c.Targets {
		if !seen[t] {
			return false
		}
	}
	return true
}

// Blame returns the kills that happened in [from-slack, to]: the likely
// cause of a request whose reply was lost in that window.
func (c *Chaos) Blame(from, to, slack time.Duration) []Kill {
	var out []Kill
	for _, k := range c.Kills() {
		if k.At >= from-slack && k.At <= to {
			out = append(out, k)
		}
	}
	return out
}
