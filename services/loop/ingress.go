package loop

import (
	"context"
	"encoding/json"
	"log/slog"

	"chirp/contract"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
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
}

// NewIngress starts an ingress; it stops when ctx ends.
func NewIngress(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, log *slog.Logger) *Ingress {
	g := &Ingress{nc: nc, js: js, log: log, pending: make(chan pendingCmd, 8192)}
	go g.watch(ctx)
	return g
}

// Accept stores cmd on subject. The request's reply subject travels in
// Chirp-Reply and its Nats-Msg-Id, if any, de-duplicates retries. If the
// stream does not store it, the requester gets unavailable.
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
	}
	f, err := g.js.PublishMsgAsync(m)
	if err != nil {
		g.log.Warn("store command", "subject", subject, "err", err)
		Reject(req, contract.CodeUnavailable, "could not store the request")
		return
	}
	g.pending <- pendingCmd{f: f, reply: req.Reply()}
}

// watch answers unavailable for commands the stream did not store.
func (g *Ingress) watch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-g.pending:
			select {
			case <-p.f.Ok():
			case err := <-p.f.Err():
				g.log.Warn("store command", "subject", p.f.Msg().Subject, "err", err)
				if p.reply != "" {
					_ = g.nc.Publish(p.reply, failJSON(contract.CodeUnavailable, "could not store the request"))
				}
			case <-ctx.Done():
				return
			}
		}
	}
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
