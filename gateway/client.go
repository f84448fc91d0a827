package gateway

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"chirp/contract"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
)

// client is one WebSocket connection. Its reader goroutine reads frames and
// sends requests. Writes go through its bounded send queue: the hub and the
// reader queue pushes and replies, and a writer goroutine, started when
// something is queued and ended when the queue is empty, batches whatever
// is queued into one frame (writer.go). An idle socket thus costs one
// goroutine, its reader. A client whose queue is full when the hub hands it
// a push is closed with CloseSlowClient rather than slowing anyone else.
type client struct {
	id     uint64
	g      *Gateway
	conn   *websocket.Conn
	done   chan struct{}
	once   sync.Once
	remote string // the client's address, for logs
	peer   peer   // where the socket comes from, for the limits

	// Guarded by mu: the send queue (borrowed from queuePool while items
	// wait, nil otherwise), whether a writer runs, room (made by a reader
	// waiting for room, closed by the writer when it takes the queue), the
	// wake-up flags of the timers and the timers themselves.
	mu        sync.Mutex
	queue     *[]item
	writing   bool
	room      chan struct{}
	pingDue   bool
	expireDue bool
	pinger    *time.Timer
	expirer   *time.Timer

	// Owned by the writer goroutine that runs (one at a time, handed on
	// through mu): a bye item was taken (shutdown), so the socket closes
	// with 1001 once what was queued before it is written; the requests in
	// flight and when the expiry timer is due.
	leaving  bool
	pending  map[uint64]pendingReq
	expireAt time.Time

	// Owned by the reader goroutine.
	handle string // acting account, "" before signup/login/auth
	next   uint64 // last request number

	// Owned by the hub goroutine.
	hubKey string

	// Owned by the writer goroutine: the last push seq written, and while
	// an attach or resume is under way (resuming), the live pushes held
	// back until the replayed ones are written.
	lastSeq  uint64
	resuming bool
	held     []item

	// How the socket ended, for the close log line (connlog.go).
	closed closeNote
}

// logger returns the logger for this connection's lines. It is made per
// line (they are few) rather than kept: an idle socket holds no logger.
func (c *client) logger() *slog.Logger {
	return c.g.cfg.Log.With("conn", c.id, "remote", c.remote)
}

// item is what the writer receives: a frame to send (a push when seq > 0),
// a service reply to request number reply, the registration of a request
// in flight, or a step of an attach.
type item struct {
	frame   []byte
	seq     uint64
	reply   uint64
	pending *pendingReq
	resume  *resumeStep
	bye     bool
}

// resumeStep brackets an attach to an account. start: live pushes are held
// from now on and the seq count restarts. The closing step (start false)
// writes gap, if set, then replayed (push frames after the client's since,
// oldest first), then the held pushes, skipping every push whose seq was
// already written: that makes the hand-over from replay to live free of
// gaps and duplicates. abort drops the held pushes.
type resumeStep struct {
	start    bool
	abort    bool
	gap      []byte
	replayed [][]byte
}

type pendingReq struct {
	n        uint64
	id       string
	deadline time.Time
	account  string // acting account when sent, for the error log line
}

// resumeStep applies one step of an attach (see resumeStep).
func (c *client) resumeStep(r *resumeStep, frames [][]byte) [][]byte {
	switch {
	case r.start:
		c.resuming, c.lastSeq = true, 0
		return frames
	case r.abort:
		c.resuming, c.held = false, nil
		return frames
	}
	if r.gap != nil {
		frames = append(frames, r.gap)
		c.lastSeq = pushSeq(r.gap)
	}
	for _, f := range r.replayed {
		if seq := pushSeq(f); seq > c.lastSeq {
			c.lastSeq = seq
			frames = append(frames, f)
		}
	}
	for _, it := range c.held {
		if it.seq > c.lastSeq {
			c.lastSeq = it.seq
			frames = append(frames, it.frame)
		}
	}
	c.resuming, c.held = false, nil
	return frames
}

// readLoop reads frames until the socket fails or closes.
func (c *client) readLoop() {
	c.conn.SetReadLimit(MaxFrame)
	_ = c.conn.SetReadDeadline(time.Now().Add(c.g.cfg.PongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(c.g.cfg.PongWait))
	})
	for {
		kind, frame, err := c.conn.ReadMessage()
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.close(websocket.CloseMessageTooBig, "frame over 64 KiB")
			default:
				c.close(websocket.CloseNormalClosure, "")
			}
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(c.g.cfg.PongWait))
		if kind != websocket.TextMessage {
			c.close(websocket.CloseUnsupportedData, "binary frames are not supported")
			return
		}
		c.serve(frame)
	}
}

// serve answers one request frame.
func (c *client) serve(frame []byte) {
	r, perr := decodeRequest(frame)
	if perr != nil {
		c.send(item{frame: errorFrame(r.ID, perr)})
		return
	}
	id := *r.ID
	fail := func(code, msg string) {
		c.send(item{frame: errorFrame(&id, &contract.Error{Code: code, Message: msg})})
	}
	need := func(fields ...*string) bool {
		for _, f := range fields {
			if f == nil {
				fail(contract.CodeBadRequest, "missing a required field for op "+strconv.Quote(*r.Op))
				return false
			}
		}
		return true
	}
	op := *r.Op
	switch op {
	case "signup", "login":
		if !need(r.Handle, r.Password) {
			return
		}
		subj := contract.SubjSignup
		if op == "login" {
			subj = contract.SubjLogin
		}
		body, _ := json.Marshal(contract.SignupRequest{Handle: *r.Handle, Password: *r.Password})
		msgID := ""
		if op == "signup" {
			if !c.allowSignup(id) {
				return
			}
			msgID = signupMsgID(*r.Handle, id)
		}
		c.authenticate(id, subj, body, msgID)
		return
	case "auth":
		if !need(r.Token) {
			return
		}
		handle, err := c.g.tokens.verify(*r.Token, time.Now())
		if err != nil {
			fail(contract.CodeUnauthenticated, "bad or expired token")
			return
		}
		c.actAs(id, handle, "", r.Since)
		return
	case "post", "follow", "like", "feed":
	default:
		fail(contract.CodeUnknownOp, "unknown op "+strconv.Quote(op))
		return
	}
	if c.handle == "" {
		fail(contract.CodeUnauthenticated, "sign up, log in or auth first")
		return
	}
	var subj string
	var body any
	switch op {
	case "post":
		if !need(r.Text) {
			return
		}
		subj, body = contract.SubjPost, contract.PostRequest{Author: c.handle, Text: *r.Text}
	case "follow":
		if !need(r.Handle) {
			return
		}
		subj, body = contract.SubjFollow, contract.FollowRequest{Follower: c.handle, Followee: *r.Handle}
	case "like":
		if !need(r.Tweet) {
			return
		}
		subj, body = contract.SubjLike, contract.LikeRequest{User: c.handle, Tweet: *r.Tweet}
	case "feed":
		req := contract.FeedRequest{User: c.handle, Limit: contract.FeedDefaultLim}
		if r.Limit != nil {
			if *r.Limit < 1 || *r.Limit > contract.FeedMaxLimit {
				fail(contract.CodeInvalid, "limit must be 1-200")
				return
			}
			req.Limit = *r.Limit
		}
		if r.Before != nil {
			req.Before = *r.Before
		}
		subj, body = contract.SubjFeed, req
	}
	if op != "feed" && !c.allowWrite(id) {
		return
	}
	c.request(id, op, subj, body)
}

// request sends a request whose reply the hub routes back to this client.
// The writer learns of it before it is sent, so the reply always finds it.
func (c *client) request(id, op, subject string, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		c.send(item{frame: errorFrame(&id, &contract.Error{Code: contract.CodeInternal, Message: "encode request"})})
		return
	}
	c.next++
	n := c.next
	if !c.send(item{pending: &pendingReq{n: n, id: id, account: c.handle, deadline: time.Now().Add(c.g.cfg.RequestTimeout)}}) {
		return
	}
	m := &nats.Msg{Subject: subject, Reply: c.g.hub.inbox + "." + strconv.FormatUint(c.id, 10) + "." + strconv.FormatUint(n, 10), Data: data}
	if op != "feed" {
		m.Header = nats.Header{contract.HeaderMsgID: []string{writeMsgID(c.handle, op, id, data)}}
	}
	if err := c.g.nc.PublishMsg(m); err != nil {
		c.logger().Warn("publish request", "subject", subject, "err", err)
	}
}

// authenticate performs signup or login synchronously (nothing else on this
// connection should run as an account that is changing).
func (c *client) authenticate(id, subject string, body []byte, msgID string) {
	rep, raw, ferr := c.authRequest(subject, body, msgID)
	if ferr == nil && rep.SignupRetry && subject == contract.SubjSignup {
		// Perhaps a retry of the signup that created the account: it
		// succeeds if the password is the one that signup set, and is
		// otherwise the conflict it would have been.
		conflict := rep.Error
		if rep, raw, ferr = c.authRequest(contract.SubjLogin, body, ""); ferr == nil && (!rep.OK || rep.User == nil) {
			ferr = conflict
		}
	}
	switch {
	case ferr != nil:
		c.send(item{frame: errorFrame(&id, ferr)})
	case !rep.OK || rep.User == nil:
		c.send(item{frame: withRe(id, raw)})
	default:
		c.actAs(id, rep.User.Handle, c.g.tokens.mint(rep.User.Handle, time.Now()), nil)
	}
}

// authRequest asks the user service to sign up or log in.
func (c *client) authRequest(subject string, body []byte, msgID string) (contract.Reply, []byte, *contract.Error) {
	var rep contract.Reply
	req := nats.NewMsg(subject)
	req.Data = body
	if msgID != "" {
		req.Header.Set(contract.HeaderMsgID, msgID)
	}
	msg, err := c.g.nc.RequestMsg(req, c.g.cfg.AuthTimeout)
	if err != nil {
		return rep, nil, &contract.Error{Code: contract.CodeUnavailable, Message: "the user service did not answer in time"}
	}
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return rep, nil, &contract.Error{Code: contract.CodeInternal, Message: "malformed service reply"}
	}
	return rep, msg.Data, nil
}

// actAs makes the connection act as handle and answers the request once
// this gateway receives the account's pushes. With since, the reply is
// followed by every retained push after since, then the live ones, with
// none missing or repeated.
func (c *client) actAs(id, handle, token string, since *uint64) {
	fail := func(e *contract.Error) {
		c.send(item{resume: &resumeStep{abort: true}})
		c.send(item{frame: errorFrame(&id, e)})
	}
	if !c.send(item{resume: &resumeStep{start: true}}) {
		return
	}
	c.handle = ""
	at := <-c.g.hub.attach(c, handle)
	if err := at.err; err != nil {
		c.logger().Warn("attach account", "account", handle, "err", err)
		c.g.hub.leave(c)
		fail(&contract.Error{Code: contract.CodeUnavailable, Message: "could not subscribe to the account's feed"})
		return
	}
	done := &resumeStep{}
	if since != nil {
		rep, ferr := c.fetchResume(handle, *since, at.seq)
		if ferr != nil {
			c.g.hub.leave(c)
			fail(ferr)
			return
		}
		for _, f := range rep.Pushes {
			done.replayed = append(done.replayed, f)
		}
		if rep.Gap && len(rep.Pushes) > 0 {
			done.gap = gapFrame(pushSeq(rep.Pushes[0]) - 1)
		}
	}
	c.handle = handle
	type reply struct {
		Re    string        `json:"re"`
		OK    bool          `json:"ok"`
		User  contract.User `json:"user"`
		Token string        `json:"token,omitempty"`
	}
	b, _ := json.Marshal(reply{Re: id, OK: true, User: contract.User{Handle: handle}, Token: token})
	c.send(item{frame: b})
	c.send(item{resume: done})
}

// fetchResume asks the feed service for handle's retained pushes after
// since, as of the presence event at stream sequence after: every later
// push is sent live, so replay and live pushes together miss nothing.
func (c *client) fetchResume(handle string, since, after uint64) (contract.ResumeReply, *contract.Error) {
	var rep struct {
		contract.ResumeReply
		Error *contract.Error `json:"error"`
	}
	body, _ := json.Marshal(contract.ResumeRequest{User: handle, Since: since})
	req := nats.NewMsg(contract.SubjResume)
	req.Data = body
	req.Header.Set(contract.HeaderAfter, strconv.FormatUint(after, 10))
	msg, err := c.g.nc.RequestMsg(req, c.g.cfg.AuthTimeout)
	if err != nil {
		return rep.ResumeReply, &contract.Error{Code: contract.CodeUnavailable, Message: "the feed service did not answer in time"}
	}
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return rep.ResumeReply, &contract.Error{Code: contract.CodeInternal, Message: "malformed service reply"}
	}
	if !rep.OK {
		if rep.Error == nil {
			rep.Error = &contract.Error{Code: contract.CodeInternal, Message: "malformed service reply"}
		}
		return rep.ResumeReply, rep.Error
	}
	return rep.ResumeReply, nil
}
