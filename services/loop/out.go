package loop

import (
	"encoding/json"
	"fmt"
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
	sends  []*nats.Msg
	jobs   []func() *nats.Msg
}

// Reset empties o for the next input, keeping its buffers.
func (o *Out) Reset() {
	clear(o.events)
	clear(o.sends)
	clear(o.jobs)
	o.events, o.sends, o.jobs = o.events[:0], o.sends[:0], o.jobs[:0]
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
	o.sends = append(o.sends, &nats.Msg{Subject: subject, Data: data})
}

// PublishSends publishes the sends in order on nc: what the loop does once
// an input's events are stored (and, for a query, at once). It returns the
// first error; the sends after it are still attempted.
func (o *Out) PublishSends(nc *nats.Conn) error {
	return publishSends(nc, o.sends)
}

func publishSends(nc *nats.Conn, sends []*nats.Msg) error {
	var first error
	for _, s := range sends {
		if err := nc.PublishMsg(s); err != nil && first == nil {
			first = fmt.Errorf("publish %s: %w", s.Subject, err)
		}
	}
	return first
}

// Go adds work to run off the loop goroutine after the input's other
// effects; the message it returns, if any, is published.
func (o *Out) Go(job func() *nats.Msg) { o.jobs = append(o.jobs, job) }
