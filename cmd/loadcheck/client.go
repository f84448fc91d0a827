package loadcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// ErrClosed is returned by Do once the connection is closed or broken.
var ErrClosed = errors.New("connection closed")

const (
	maxFrameBytes       = 32 << 20
	defaultWriteTimeout = 10 * time.Second
)

// Conn is one client WebSocket connection speaking protocol v1. A reader
// goroutine dispatches replies to the Do call waiting for their "re" id and
// pushes to the OnPush handler, so several Do calls may be in flight at once.
// All methods are safe for concurrent use.
type Conn struct {
	ws     *websocket.Conn
	nextID atomic.Uint64
	wmu    sync.Mutex // serialises writes

	mu      sync.Mutex
	pending map[string]chan Reply
	late    map[string]struct{} // ids whose caller gave up; their replies are dropped quietly
	err     error               // why the connection ended; set once, before done closes
	done    chan struct{}

	onPush  atomic.Pointer[func(Push)]
	onError atomic.Pointer[func(error)]
	onFrame atomic.Pointer[func([]byte, time.Time) bool]
}

// DialOptions tune a connection for many-socket load: where it comes from
// and how much buffer memory it holds. Zero values take Dial's defaults.
type DialOptions struct {
	// LocalAddr is the client's source address (an IP on 127.0.0.0/8 lets
	// one machine open more sockets to one server than one source address
	// has ports); nil lets the kernel choose.
	LocalAddr *net.TCPAddr
	// ReadBufferSize and WriteBufferSize are the socket's I/O buffers in
	// bytes (defaults 64 KiB and 16 KiB).
	ReadBufferSize, WriteBufferSize int
}

// Dial opens a connection to a ws:// or wss:// URL.
func Dial(ctx context.Context, url string) (*Conn, error) {
	return DialWith(ctx, url, DialOptions{})
}

// DialWith opens a connection to a ws:// or wss:// URL with opts.
func DialWith(ctx context.Context, url string, opts DialOptions) (*Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 64 << 10, WriteBufferSize: 16 << 10}
	if opts.ReadBufferSize > 0 {
		d.ReadBufferSize = opts.ReadBufferSize
	}
	if opts.WriteBufferSize > 0 {
		d.WriteBufferSize = opts.WriteBufferSize
	}
	if opts.LocalAddr != nil {
		nd := &net.Dialer{LocalAddr: opts.LocalAddr, Timeout: d.HandshakeTimeout}
		d.NetDialContext = nd.DialContext
	}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %s)", url, err, resp.Status)
		}
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(maxFrameBytes)
	c := &Conn{ws: ws, pending: make(map[string]chan Reply), late: make(map[string]struct{}), done: make(chan struct{})}
	go c.readLoop()
	return c, nil
}

// OnPush sets the handler for pushes. It runs on the reader goroutine in
// arrival order and must not block for long; nil drops pushes.
func (c *Conn) OnPush(h func(Push)) {
	if h == nil {
		c.onPush.Store(nil)
		return
	}
	c.onPush.Store(&h)
}

// OnFrame sets a handler that sees every text frame, with its arrival
// time, before it is decoded; when it returns true the frame is taken as
// handled and not decoded at all (no reply is matched, no OnPush runs).
// A load generator uses it to time pushes without paying for decoding;
// it must return false for any frame that may hold a reply. It runs on the
// reader goroutine and must not keep data after it returns.
func (c *Conn) OnFrame(h func(data []byte, received time.Time) bool) {
	if h == nil {
		c.onFrame.Store(nil)
		return
	}
	c.onFrame.Store(&h)
}

// OnProtocolError sets a handler for input the client could not make sense
// of (malformed frames, replies nobody waits for). It runs on the reader goroutine.
func (c *Conn) OnProtocolError(h func(error)) {
	if h == nil {
		c.onError.Store(nil)
		return
	}
	c.onError.Store(&h)
}

// Done is closed when the connection has ended; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.err
	default:
		return nil
	}
}

// Close ends the connection. Calls waiting in Do return ErrClosed.
func (c *Conn) Close() error {
	// WriteControl may run concurrently with other writes.
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.fail(ErrClosed)
	return c.ws.Close()
}

// Do sends {"id","op",...fields} and waits for the matching reply. A reply
// with ok=false is returned together with a *ServerError. Transport
// failures wrap ErrClosed or the context's error.
func (c *Conn) Do(ctx context.Context, op string, fields map[string]any) (Reply, error) {
	return c.roundTrip(ctx, strconv.FormatUint(c.nextID.Add(1), 36), op, fields, true)
}

// roundTrip sends {"id","op",...fields} and waits for the reply to id.
// With markLate, a reply that comes after ctx ended is dropped quietly
// when it arrives; without, the caller is expected to send id again (Do's
// ids are fresh, DoID's are retried).
func (c *Conn) roundTrip(ctx context.Context, id, op string, fields map[string]any, markLate bool) (Reply, error) {
	msg := make(map[string]any, len(fields)+2)
	maps.Copy(msg, fields)
	msg["id"], msg["op"] = id, op
	data, err := json.Marshal(msg)
	if err != nil {
		return Reply{}, fmt.Errorf("%s: encode request: %w", op, err)
	}

	ch := make(chan Reply, 1)
	c.mu.Lock()
	if c.isDone() {
		err := c.err
		c.mu.Unlock()
		return Reply{}, fmt.Errorf("%s: %w", op, err)
	}
	if _, busy := c.pending[id]; busy {
		c.mu.Unlock()
		return Reply{}, fmt.Errorf("%s: request id %q already in flight", op, id)
	}
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func(late bool) {
		c.mu.Lock()
		if _, ok := c.pending[id]; ok {
			delete(c.pending, id)
			if late && markLate && len(c.late) < 100000 {
				c.late[id] = struct{}{}
			}
		}
		c.mu.Unlock()
	}

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultWriteTimeout)
	}
	c.wmu.Lock()
	_ = c.ws.SetWriteDeadline(deadline)
	err = c.ws.WriteMessage(websocket.TextMessage, data)
	c.wmu.Unlock()
	if err != nil {
		forget(false)
		c.fail(fmt.Errorf("%w: write: %v", ErrClosed, err))
		return Reply{}, fmt.Errorf("%s: write: %w", op, ErrClosed)
	}

	select {
	case r := <-ch:
		return finish(op, r)
	case <-ctx.Done():
		forget(true)
		select { // the reply may have raced the deadline
		case r := <-ch:
			return finish(op, r)
		default:
		}
		return Reply{}, fmt.Errorf("%s: waiting for reply: %w", op, ctx.Err())
	case <-c.done:
		select {
		case r := <-ch:
			return finish(op, r)
		default:
		}
		return Reply{}, fmt.Errorf("%s: %w", op, c.Err())
	}
}

func finish(op string, r Reply) (Reply, error) {
	if !r.OK {
		return r, &ServerError{Op: op, ErrorInfo: *r.Error}
	}
	return r, nil
}

func (c *Conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// fail records the first reason the connection ended and wakes all waiters.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isDone() {
		return
	}
	c.err = err
	close(c.done)
	c.pending = nil
}

func (c *Conn) protocolError(err error) {
	if h := c.onError.Load(); h != nil {
		(*h)(err)
	}
}

func (c *Conn) readLoop() {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.fail(fmt.Errorf("%w: read: %v", ErrClosed, err))
			c.ws.Close()
			return
		}
		if h := c.onFrame.Load(); h != nil && (*h)(data, time.Now()) {
			continue
		}
		items, err := splitFrame(data)
		if err != nil {
			c.protocolError(fmt.Errorf("frame %.120q: %w", data, err))
			continue
		}
		now := time.Now()
		for _, raw := range items {
			m, err := decodeMessage(raw, now)
			if err != nil {
				c.protocolError(fmt.Errorf("message %.120q: %w", raw, err))
				continue
			}
			if m.reply != nil {
				c.deliver(m.reply)
				continue
			}
			if h := c.onPush.Load(); h != nil {
				(*h)(*m.push)
			}
		}
	}
}

func (c *Conn) deliver(r *Reply) {
	c.mu.Lock()
	ch, ok := c.pending[r.Re]
	delete(c.pending, r.Re)
	_, late := c.late[r.Re]
	delete(c.late, r.Re)
	closed := c.isDone()
	c.mu.Unlock()
	if late || closed {
		return
	}
	if !ok {
		c.protocolError(fmt.Errorf("reply re=%q matches no request in flight", r.Re))
		return
	}
	ch <- *r // buffered, one reply per id
}
