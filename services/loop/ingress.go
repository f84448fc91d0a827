package loop

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"chirp/contract"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
)

// Ingress turns requests on write endpoints into commands on the stream.
// It runs on the endpoints' goroutines, never on a world's: it only
// decodes, checks what needs no state, and stores. The world answers the
// requester later through the Chirp-Reply header.
type Ingress struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	log     *slog.Logger
	pending chan pendingCmd
}

type pendingCmd struct {
	f     jetstream.PubAckFuture
	reply string
	retry bool // already a re-store of a duplicate
}

// NewIngress starts an ingress; it stops when ctx ends.
func NewIngress(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, log *slog.Logger) *Ingress {
	g := &Ingress{nc: nc, js: js, log: log, pending: make(chan pendingCmd, 8192)}
	go g.watch(ctx)
	return g
}

// Accept stores cmd on subject. The request's reply subject travels in
// Chirp-Reply. Its Nats-Msg-Id, if any, is the request's identity: it is
// kept as Nats-Msg-Id, so JetStream stores a retry once, and copied to
// Chirp-Request, so the world recognises a retry that comes after the
// duplicate window. If the stream does not store it, the requester gets
// unavailable.
func (g *Ingress) Accept(req micro.Request, subject string, cmd any) {
	data, err := json.Marshal(cmd)
	if err != nil {
		Reject(req, contract.CodeInternal, "encode command")
		return
	}
	m := nats.NewMsg(subject)
	m.Data = data
	if req.Reply() != "" {
		m.Header.Set(contract.HeaderReply, req.Reply())
	}
	if id := req.Headers().Get(contract.HeaderMsgID); id != "" {
		m.Header.Set(contract.HeaderMsgID, id)
		m.Header.Set(contract.HeaderRequest, id)
	}
	g.store(m, req.Reply(), false)
}

func (g *Ingress) store(m *nats.Msg, reply string, retry bool) {
	f, err := g.js.PublishMsgAsync(m)
	if err != nil {
		g.log.Warn("store command", "subject", m.Subject, "err", err)
		if reply != "" {
			_ = g.nc.Publish(reply, failJSON(contract.CodeUnavailable, "could not store the request"))
		}
		return
	}
	g.pending <- pendingCmd{f: f, reply: reply, retry: retry}
}

// watch answers unavailable for commands the stream did not store.
func (g *Ingress) watch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-g.pending:
			t := time.NewTimer(PubAckWait)
			select {
			case ack := <-p.f.Ok():
				if ack.Duplicate && !p.retry {
					g.restore(p)
				}
			case err := <-p.f.Err():
				g.log.Warn("store command", "subject", p.f.Msg().Subject, "err", err)
				if p.reply != "" {
					_ = g.nc.Publish(p.reply, failJSON(contract.CodeUnavailable, "could not store the request"))
				}
			case <-t.C:
				// Stored or not, nobody will say: the requester retries
				// with the same id, which stores it at most once.
				g.log.Warn("store command: no acknowledgement", "subject", p.f.Msg().Subject, "waited", PubAckWait)
				if p.reply != "" {
					_ = g.nc.Publish(p.reply, failJSON(contract.CodeUnavailable, "could not store the request"))
				}
			case <-ctx.Done():
				t.Stop()
				return
			}
			t.Stop()
		}
	}
}

// restore stores again, under a fresh Nats-Msg-Id, a retried command that
// JetStream dropped as a duplicate: the requester still needs an answer,
// and only the world knows the original outcome. The command keeps its
// Chirp-Request, so the world answers it without applying it twice.
func (g *Ingress) restore(p pendingCmd) {
	orig := p.f.Msg()
	m := nats.NewMsg(orig.Subject)
	m.Data = orig.Data
	for k, v := range orig.Header {
		m.Header[k] = v
	}
	m.Header.Set(contract.HeaderMsgID, orig.Header.Get(contract.HeaderRequest)+":retry:"+nuid.Next())
	go g.store(m, p.reply, true)
}

// Reject answers a request with an error reply.
func Reject(req micro.Request, code, message string) {
	data, _ := json.Marshal(contract.Fail(code, message))
	_ = req.Respond(data)
}

// Decode unmarshals a request body, rejecting it with bad_request when it
// is not the expected JSON object.
func Decode(req micro.Request, v any) bool {
	if err := json.Unmarshal(req.Data(), v); err != nil {
		Reject(req, contract.CodeBadRequest, "request is not valid JSON of the expected shape")
		return false
	}
	return true
}

// AsMsg turns a micro request into a message for Loop.Query.
func AsMsg(req micro.Request) *nats.Msg {
	return &nats.Msg{Subject: req.Subject(), Data: req.Data(), Reply: req.Reply(), Header: nats.Header(req.Headers())}
}
