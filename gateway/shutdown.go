package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// lifecycle counts the sockets being served and, once shutdown begins,
// refuses new ones. The zero value is ready.
type lifecycle struct {
	mu      sync.Mutex
	closing bool
	open    int
	idle    chan struct{} // made by begin; closed once closing and open == 0
}

// enter counts a new socket; false once shutdown has begun.
func (l *lifecycle) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	l.open++
	return true
}

// leave uncounts a socket enter counted.
func (l *lifecycle) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.closing && l.open == 0 {
		close(l.idle) // once: enter refuses after begin, so 0 is reached once
	}
}

// shuttingDown reports whether shutdown has begun.
func (l *lifecycle) shuttingDown() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closing
}

// begin refuses new sockets from now on and returns a channel closed once
// the last one is done.
func (l *lifecycle) begin() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closing {
		l.closing = true
		l.idle = make(chan struct{})
		if l.open == 0 {
			close(l.idle)
		}
	}
	return l.idle
}

// CloseGoingAwayReason is the close reason sockets get on shutdown, with
// code 1001 (going away): reconnect, to this gateway once it is back or to
// another one, and resume.
const CloseGoingAwayReason = "server shutting down"

// Shutdown closes the gateway gracefully, in this order: new sockets are
// refused (HTTP 503); the pushes and replies NATS delivered before the call
// are queued to their sockets; each socket writes what is queued, then a
// close frame 1001, and is closed; each account's presence is withdrawn.
// It returns once every socket is done, or when ctx ends, after closing
// the remaining sockets at once (the error is then ctx's). Close must
// still be called afterwards; NATS is the caller's to drain.
func (g *Gateway) Shutdown(ctx context.Context) error {
	idle := g.life.begin()
	// A round trip to the server puts every message it sent before into
	// the hub's channels.
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	_ = g.nc.FlushWithContext(fctx)
	cancel()

	var leaving []*client
	sweep := func() {
		for _, c := range g.takeClients(ctx) {
			c.leave()
			leaving = append(leaving, c)
		}
	}
	sweep()
	// A socket admitted just before begin may register after the sweep.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-idle:
			return nil
		case <-tick.C:
			sweep()
		case <-ctx.Done():
			for _, c := range leaving {
				c.close(websocket.CloseGoingAway, CloseGoingAwayReason)
			}
			return ctx.Err()
		}
	}
}

// takeClients, on the hub goroutine, delivers the pushes and replies
// already received, then removes every registered client from the hub
// (withdrawing presence as the last socket of an account goes) and returns
// them. Nothing reaches a removed client from the hub again.
func (g *Gateway) takeClients(ctx context.Context) []*client {
	h := g.hub
	got := make(chan []*client, 1)
	op := func() {
	flush:
		for {
			select {
			case m := <-h.pushes:
				h.push(m)
			case m := <-h.replies:
				h.reply(m)
			default:
				break flush
			}
		}
		cs := make([]*client, 0, len(h.clients))
		for id, c := range h.clients {
			h.detach(c)
			delete(h.clients, id)
			cs = append(cs, c)
		}
		got <- cs
	}
	select {
	case h.ops <- op:
	case <-g.stop:
		return nil
	case <-ctx.Done():
		return nil
	}
	select {
	case cs := <-got:
		return cs
	case <-g.stop:
		return nil
	case <-ctx.Done():
		return nil
	}
}

// leave asks the writer to write what is queued, then close the socket
// with 1001; with the queue full, the socket is closed at once.
func (c *client) leave() { c.put(item{bye: true}, closeGoingAway) }
