package gateway

import (
	"sync"
	"time"

	"chirp/contract"

	"github.com/gorilla/websocket"
)

// The send queue and the writer of a client.
//
// Items are queued under c.mu. The first item queued while no writer runs
// starts one (c.writing); it takes everything queued, turns it into frames,
// writes up to maxBatch of them per WebSocket frame (a JSON array when more
// than one), and repeats until it finds the queue empty, then ends. So at
// most one writer runs at a time, items are written in queue order, and an
// idle socket has no goroutine besides its reader. The writer state of the
// client (pending requests, push seqs, resume hold-back) passes from one
// writer to the next through c.mu.
//
// Pings and the expiry of requests the services did not answer are timers
// that set a flag and start a writer the same way, so every write to the
// socket, control frames included, happens on a writer.

// maxBatch is the most frames joined into one WebSocket frame.
const maxBatch = 64

// onFull says what queueing an item does when the queue is full.
type onFull int

const (
	waitForRoom    onFull = iota // the reader's own items: wait for the writer
	closeSlow                    // pushes and service replies: the client is too slow
	closeGoingAway               // the shutdown bye: close with 1001 at once
)

// enqueue hands an item to the writer without blocking; a full queue means
// the client is too slow and it is closed.
func (c *client) enqueue(it item) { c.put(it, closeSlow) }

// send hands an item to the writer, waiting for room; used by the reader
// for the client's own requests.
func (c *client) send(it item) bool {
	c.noteSend(it)
	return c.put(it, waitForRoom)
}

// put queues it and makes sure a writer runs; false if the client is
// closed or, unless full is waitForRoom, the queue was full.
func (c *client) put(it item, full onFull) bool {
	for {
		select {
		case <-c.done:
			return false
		default:
		}
		c.mu.Lock()
		if c.queued() < c.g.cfg.SendQueue {
			if c.queue == nil {
				c.queue = queuePool.Get().(*[]item)
			}
			*c.queue = append(*c.queue, it)
			c.startWriterLocked()
			c.mu.Unlock()
			return true
		}
		if full != waitForRoom {
			c.mu.Unlock()
			if full == closeGoingAway {
				c.close(websocket.CloseGoingAway, CloseGoingAwayReason)
			} else {
				c.logger().Warn("send queue full, closing slow client")
				c.close(CloseSlowClient, "send queue full")
			}
			return false
		}
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.mu.Unlock()
		select {
		case <-room:
		case <-c.done:
			return false
		}
	}
}

// queuePool lends queues to clients with items waiting: an idle socket
// holds none, and a busy one does not grow a new one for every burst.
var queuePool = sync.Pool{New: func() any {
	q := make([]item, 0, 16)
	return &q
}}

// queued is the queue's length; c.mu held.
func (c *client) queued() int {
	if c.queue == nil {
		return 0
	}
	return len(*c.queue)
}

// returnQueue gives a taken queue back to the pool.
func returnQueue(q *[]item) {
	clear(*q)
	*q = (*q)[:0]
	if cap(*q) <= 1024 {
		queuePool.Put(q)
	}
}

func (c *client) startWriterLocked() {
	if !c.writing {
		c.writing = true
		go c.write()
	}
}

// wake sets a timer's flag and makes sure a writer runs to act on it.
func (c *client) wake(flag *bool) {
	c.mu.Lock()
	*flag = true
	c.startWriterLocked()
	c.mu.Unlock()
}

// startPings arms the ping timer; the writer re-arms it after each ping.
func (c *client) startPings() {
	c.mu.Lock()
	c.pinger = time.AfterFunc(c.g.cfg.PingInterval, func() { c.wake(&c.pingDue) })
	c.mu.Unlock()
}

// stopTimers stops the client's timers (they would keep it reachable).
func (c *client) stopTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pinger != nil {
		c.pinger.Stop()
	}
	if c.expirer != nil {
		c.expirer.Stop()
	}
}

// writeScratch is a writer's frame list and output buffer, pooled: an idle
// socket holds neither.
type writeScratch struct {
	frames [][]byte
	buf    []byte
}

var scratchPool = sync.Pool{New: func() any { return &writeScratch{frames: make([][]byte, 0, maxBatch)} }}

// write is the writer goroutine (see the top of this file).
func (c *client) write() {
	s := scratchPool.Get().(*writeScratch)
	defer func() {
		clear(s.frames[:cap(s.frames)])
		if cap(s.buf) > 64<<10 {
			s.buf = nil
		}
		scratchPool.Put(s)
	}()
	for {
		q, ping, expire, more := c.takeQueue()
		if !more {
			return
		}
		select {
		case <-c.done:
			return // a writer never starts again: writing stays true
		default:
		}
		if ping && !c.ping() {
			return
		}
		if expire && !c.expire(s) {
			return
		}
		if q != nil {
			ok := c.writeItems(*q, s)
			returnQueue(q)
			if !ok {
				return
			}
		}
	}
}

// takeQueue takes the queue (nil if empty; the writer returns it to the
// pool) and the timer flags; more is false, and the writer is done, when
// there was nothing at all.
func (c *client) takeQueue() (q *[]item, ping, expire, more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ping, expire = c.pingDue, c.expireDue
	c.pingDue, c.expireDue = false, false
	if c.queued() == 0 && !ping && !expire {
		c.writing = false
		return nil, false, false, false
	}
	q, c.queue = c.queue, nil
	if c.room != nil {
		close(c.room)
		c.room = nil
	}
	return q, ping, expire, true
}

// writeItems turns items into frames and writes them, maxBatch per
// WebSocket frame. false: the socket is closed (a write failed, or a bye
// was taken and what came before it is written).
func (c *client) writeItems(items []item, s *writeScratch) bool {
	frames := s.frames[:0]
	for i, it := range items {
		frames = c.take(it, frames)
		if c.leaving {
			break
		}
		if len(frames) == maxBatch {
			if !c.writeFrames(frames, s, len(items)-i-1) {
				return false
			}
			frames = frames[:0]
		}
	}
	if len(frames) > 0 && !c.writeFrames(frames, s, 0) {
		return false
	}
	if c.leaving {
		c.close(websocket.CloseGoingAway, CloseGoingAwayReason)
		return false
	}
	return true
}

// writeFrames writes frames as one WebSocket frame; depth is how many
// taken items wait behind them, for the queue depth metric.
func (c *client) writeFrames(frames [][]byte, s *writeScratch, depth int) bool {
	s.buf = batch(s.buf[:0], frames)
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.g.cfg.WriteTimeout))
	if err := c.conn.WriteMessage(websocket.TextMessage, s.buf); err != nil {
		c.close(websocket.CloseGoingAway, "write failed")
		return false
	}
	c.mu.Lock()
	depth += c.queued()
	c.mu.Unlock()
	c.g.metrics.wrote(frames, depth)
	return true
}

// ping writes a ping and re-arms the ping timer.
func (c *client) ping() bool {
	if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.g.cfg.WriteTimeout)); err != nil {
		c.close(websocket.CloseGoingAway, "ping failed")
		return false
	}
	c.mu.Lock()
	c.pinger.Reset(c.g.cfg.PingInterval)
	c.mu.Unlock()
	return true
}

// expire answers unavailable to every request whose service reply is
// overdue, and re-arms the expiry timer for the next deadline.
func (c *client) expire(s *writeScratch) bool {
	now := time.Now()
	c.expireAt = time.Time{}
	var next time.Time
	for n, p := range c.pending {
		if !now.After(p.deadline) {
			if next.IsZero() || p.deadline.Before(next) {
				next = p.deadline
			}
			continue
		}
		delete(c.pending, n)
		id := p.id
		f := errorFrame(&id, &contract.Error{Code: contract.CodeUnavailable, Message: "the service did not answer in time"})
		c.noteError(p.account, f)
		if !c.writeFrames(append(s.frames[:0], f), s, 0) {
			return false
		}
	}
	if len(c.pending) == 0 {
		c.pending = nil // maps do not shrink; an idle socket keeps none
	}
	if !next.IsZero() {
		c.expireBy(next)
	}
	return true
}

// expireBy makes sure the expiry timer fires by deadline.
func (c *client) expireBy(deadline time.Time) {
	if !c.expireAt.IsZero() && !deadline.Before(c.expireAt) {
		return
	}
	c.expireAt = deadline
	d := time.Until(deadline) + time.Millisecond
	c.mu.Lock()
	if c.expirer == nil {
		c.expirer = time.AfterFunc(d, func() { c.wake(&c.expireDue) })
	} else {
		c.expirer.Reset(d)
	}
	c.mu.Unlock()
}

// maxHeld bounds the live pushes held during a resume.
const maxHeld = 4096

// take turns one item into frames to write.
func (c *client) take(it item, frames [][]byte) [][]byte {
	switch {
	case it.bye:
		c.leaving = true
	case it.resume != nil:
		return c.resumeStep(it.resume, frames)
	case it.seq != 0 && c.resuming:
		if len(c.held) == maxHeld {
			c.close(CloseSlowClient, "send queue full")
			return frames
		}
		c.held = append(c.held, it)
	case it.seq != 0:
		if it.seq > c.lastSeq {
			c.lastSeq = it.seq
			frames = append(frames, it.frame)
		}
	case it.pending != nil:
		if c.pending == nil {
			c.pending = make(map[uint64]pendingReq)
		}
		c.pending[it.pending.n] = *it.pending
		c.expireBy(it.pending.deadline)
	case it.reply != 0:
		p, ok := c.pending[it.reply]
		if !ok {
			return frames // answered late, after unavailable was sent
		}
		delete(c.pending, it.reply)
		if len(c.pending) == 0 {
			c.pending = nil
		}
		frames = append(frames, withRe(p.id, it.frame))
		c.noteError(p.account, frames[len(frames)-1])
	default:
		frames = append(frames, it.frame)
	}
	return frames
}

// close sends a close frame with code and closes the socket; safe from any
// goroutine, effective once.
func (c *client) close(code int, reason string) {
	c.once.Do(func() {
		c.closed.code, c.closed.reason = code, reason
		close(c.done)
		c.stopTimers()
		msg := websocket.FormatCloseMessage(code, reason)
		_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		_ = c.conn.Close()
	})
}
