package loop

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"chirp/contract"

	"github.com/nats-io/nats.go"
)

// Msg is one input as a service's handler sees it.
type Msg struct {
	Subject string
	Data    []byte
	Header  nats.Header
	// Seq is the stream sequence; 0 for a query.
	Seq uint64
	// At is when the stream stored the input; zero for a query.
	At time.Time
	// Reply is where the final answer goes: the command's Chirp-Reply
	// header, or a query's reply subject.
	Reply string
	// Request is the command's request identity (Chirp-Request), "" for
	// events and queries.
	Request string
}

// Out collects the effects of one input, in the order the loop performs
// them: Events are stored on the stream (all acknowledged), then Sends are
// published, then Jobs run off the loop goroutine. Handlers fill it; they
// never publish themselves.
type Out struct {
	events []*nats.Msg
	sends  *sendBatch
	jobs   []func() *nats.Msg
}

// sendBatch holds the core NATS messages of one input: most often a
// fan-out of pushes, whose data lie one after another in buf, so a
// thousand pushes cost no allocation once batches are reused (they return
// to batchPool after being published).
type sendBatch struct {
	sends []send
	buf   []byte
}

// send is one message: data, or buf[start:end] of its batch, or msg when
// it carries headers.
type send struct {
	subject    string
	data       []byte
	start, end int
	buffered   bool
	msg        *nats.Msg
}

var batchPool = sync.Pool{New: func() any { return new(sendBatch) }}

// maxPooledBuf keeps batches that held an unusually large fan-out out of
// the pool.
const maxPooledBuf = 4 << 20

func (b *sendBatch) reset() {
	clear(b.sends)
	b.sends, b.buf = b.sends[:0], b.buf[:0]
}

// release returns b to the pool.
func (b *sendBatch) release() {
	if b == nil || cap(b.buf) > maxPooledBuf {
		return
	}
	b.reset()
	batchPool.Put(b)
}

func (o *Out) batch() *sendBatch {
	if o.sends == nil {
		o.sends = batchPool.Get().(*sendBatch)
	}
	return o.sends
}

// takeSends hands the sends over (to the completer), leaving o without.
func (o *Out) takeSends() *sendBatch {
	b := o.sends
	o.sends = nil
	if b != nil && len(b.sends) == 0 {
		b.release()
		return nil
	}
	return b
}

// Reset empties o for the next input, keeping its buffers.
func (o *Out) Reset() {
	clear(o.events)
	clear(o.jobs)
	o.events, o.jobs = o.events[:0], o.jobs[:0]
	if o.sends != nil {
		o.sends.reset()
	}
}

// Event adds an event to store on the stream. reply travels with it in the
// Chirp-Reply header.
func (o *Out) Event(subject string, v any, reply string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", subject, err)
	}
	m := nats.NewMsg(subject)
	m.Data = data
	if reply != "" {
		m.Header.Set(contract.HeaderReply, reply)
	}
	o.events = append(o.events, m)
	return nil
}

// Reply adds an answer to a request; to == "" means nobody asked.
func (o *Out) Reply(to string, v any) error {
	if to == "" {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	o.Send(to, data)
	return nil
}

// Send adds a core NATS message (a push, a reply).
func (o *Out) Send(subject string, data []byte) {
	b := o.batch()
	b.sends = append(b.sends, send{subject: subject, data: data})
}

// Buf returns the buffer that message data can be appended to: append one
// message's data to it and pass the result to SendBuf. A fan-out written
// this way allocates nothing per message.
func (o *Out) Buf() []byte { return o.batch().buf }

// SendBuf adds a core NATS message whose data is what was appended to Buf
// since it was called; buf is the result of those appends.
func (o *Out) SendBuf(subject string, buf []byte) {
	b := o.batch()
	b.sends = append(b.sends, send{subject: subject, start: len(b.buf), end: len(buf), buffered: true})
	b.buf = buf
}

// sendMsg adds a message with headers.
func (o *Out) sendMsg(m *nats.Msg) {
	b := o.batch()
	b.sends = append(b.sends, send{subject: m.Subject, msg: m})
}

// PublishSends publishes the sends in order on nc: what the loop does once
// an input's events are stored (and, for a query, at once). It returns the
// first error; the sends after it are still attempted.
func (o *Out) PublishSends(nc *nats.Conn) error {
	return o.sends.publish(nc)
}

func (b *sendBatch) publish(nc *nats.Conn) error {
	if b == nil {
		return nil
	}
	var first error
	for _, s := range b.sends {
		var err error
		switch {
		case s.msg != nil:
			err = nc.PublishMsg(s.msg)
		case s.buffered:
			err = nc.Publish(s.subject, b.buf[s.start:s.end])
		default:
			err = nc.Publish(s.subject, s.data)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("publish %s: %w", s.subject, err)
		}
	}
	return first
}

// Go adds work to run off the loop goroutine after the input's other
// effects; the message it returns, if any, is published.
func (o *Out) Go(job func() *nats.Msg) { o.jobs = append(o.jobs, job) }
