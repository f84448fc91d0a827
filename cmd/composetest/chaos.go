package composetest

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Event is one disruption the chaos script performed.
type Event struct {
	What  string
	At    time.Duration // since the clock's start
	Down  time.Duration // until the restart or the reconnect
	Ready time.Duration // since At, until the container was healthy again; 0 if it never was
	Err   string
}

func (e Event) String() string {
	s := fmt.Sprintf("%7.2fs %-40s back after %v", e.At.Seconds(), e.What, e.Down.Round(100*time.Millisecond))
	if e.Err != "" {
		return s + ", FAILED: " + e.Err
	}
	return s + fmt.Sprintf(", healthy %.2fs after it began", e.Ready.Seconds())
}

// Step is one disruption of the script: kill a service's container and
// start it again after Down, or (Cut) disconnect it from the project's
// network and connect it again after Down.
type Step struct {
	Service string
	Cut     bool
	Down    time.Duration
	// Probe, when set, is a command run in the container (docker exec)
	// that must succeed before the step is over. A container cut off the
	// network stays "healthy" to Docker until its health check has failed
	// many times, so a cut needs a probe of its own.
	Probe []string
}

// Chaos performs Steps one after the other, Gap apart, each only once the
// previous disrupted container is healthy again, so at most one part of
// the stack is down at a time.
type Chaos struct {
	Compose *Compose
	Steps   []Step
	Gap     time.Duration
	Start   time.Time // the clock Event.At is measured on
	Logf    func(format string, args ...any)

	mu     sync.Mutex
	events []Event
	done   bool
}

// Run performs the script; it stops early when ctx ends, reconnecting a
// cut-off container first.
func (c *Chaos) Run(ctx context.Context) {
	defer func() {
		c.mu.Lock()
		c.done = true
		c.mu.Unlock()
	}()
	for _, s := range c.Steps {
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.Gap):
		}
		e := c.step(ctx, s)
		c.Logf("chaos: %s", e)
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
	}
}

func (c *Chaos) step(ctx context.Context, s Step) Event {
	e := Event{What: "docker kill " + s.Service, At: time.Since(c.Start)}
	if s.Cut {
		e.What = "docker network disconnect " + s.Service
	}
	id, err := c.Compose.Container(ctx, s.Service)
	if err != nil {
		e.Err = err.Error()
		return e
	}
	begin := time.Now()
	if s.Cut {
		if _, err := Docker(ctx, "network", "disconnect", c.Compose.Network(), id); err != nil {
			e.Err = err.Error()
			return e
		}
		sleepCtx(ctx, s.Down)
		// Reconnect even when ctx has ended; the alias is the service's
		// name, which the other containers resolve.
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := Docker(rctx, "network", "connect", "--alias", s.Service, c.Compose.Network(), id)
		cancel()
		if err != nil {
			e.Err = err.Error()
			return e
		}
	} else {
		if _, err := Docker(ctx, "kill", id); err != nil {
			e.Err = err.Error()
			return e
		}
		sleepCtx(ctx, s.Down)
		// The restart policy may have started it already; start is a
		// no-op then.
		if _, err := Docker(ctx, "start", id); err != nil {
			e.Err = err.Error()
			return e
		}
	}
	e.Down = time.Since(begin)
	if err := WaitContainerHealthy(ctx, id, 2*time.Minute); err != nil {
		e.Err = err.Error()
		return e
	}
	if err := waitProbe(ctx, id, s.Probe, 2*time.Minute); err != nil {
		e.Err = err.Error()
		return e
	}
	e.Ready = time.Since(begin)
	return e
}

// waitProbe runs probe in container id until it succeeds.
func waitProbe(ctx context.Context, id string, probe []string, timeout time.Duration) error {
	if len(probe) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		_, err := Docker(ctx, append([]string{"exec", id}, probe...)...)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("probe %v in %.12s still failing after %v: %w", probe, id, timeout, err)
		case <-time.After(time.Second):
		}
	}
}

// Events returns the disruptions so far.
func (c *Chaos) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// Done reports whether the script has finished.
func (c *Chaos) Done() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
