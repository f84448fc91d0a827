package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"chirp/contract"

	"github.com/gorilla/websocket"
)

// What the gateway logs: one line when a socket opens, one when it closes
// (account, duration, close code, who closed), and one per error reply
// (account, request id, code, message). Frames are never logged whole, so
// no password or token reaches a log: error messages name fields, never
// their values.

// closeNote is what a client records for its close line.
type closeNote struct {
	// code and reason the gateway closed with; set inside close's once.
	code   int
	reason string
	// peer is the code of the client's close frame, 0 if it sent none;
	// set by the reader goroutine.
	peer       int
	peerReason string
}

// closeDropped stands for "the socket ended without a close frame" (RFC
// 6455's 1006, never sent on the wire).
const closeDropped = 1006

// track logs and counts c's opening, and returns the func that logs and
// counts its closing. Call it before c's reader starts, and the returned
// func on the reader's goroutine once the reader has returned (c.close has
// run by then).
func (g *Gateway) track(c *client) func() {
	opened := time.Now()
	prev := c.conn.CloseHandler()
	c.conn.SetCloseHandler(func(code int, text string) error {
		c.closed.peer, c.closed.peerReason = code, text
		return prev(code, text)
	})
	g.metrics.open.Inc()
	g.metrics.opened.Inc()
	c.logger().Info("connection opened")
	return func() {
		g.metrics.open.Dec()
		code, reason, by := c.closed.code, c.closed.reason, "gateway"
		switch {
		case c.closed.peer != 0:
			code, reason, by = c.closed.peer, c.closed.peerReason, "client"
		case code == websocket.CloseNormalClosure && reason == "":
			// The reader failed without a close frame from the client.
			code, by = closeDropped, "network"
		}
		g.metrics.closedWith(code)
		c.logger().Info("connection closed", "account", c.handle, "duration", time.Since(opened).Round(time.Millisecond),
			"close_code", code, "close_reason", reason, "closed_by", by)
	}
}

// okFalse marks an error reply; inside a JSON string the quotes would be
// escaped, so only a top-level "ok":false matches.
var okFalse = []byte(`"ok":false`)

// noteSend counts and logs the error replies the reader hands to the
// writer. Reader goroutine only (it reads c.handle).
func (c *client) noteSend(it item) {
	if it.frame != nil {
		c.noteError(c.handle, it.frame)
	}
}

// noteError counts and logs frame if it is an error reply, as account's.
func (c *client) noteError(account string, frame []byte) {
	if !bytes.Contains(frame, okFalse) {
		return
	}
	var r struct {
		Re    string          `json:"re"`
		Error *contract.Error `json:"error"`
	}
	if json.Unmarshal(frame, &r) != nil || r.Error == nil {
		return
	}
	c.g.metrics.rejected.WithLabelValues(r.Error.Code).Inc()
	level := slog.LevelInfo
	if r.Error.Code == contract.CodeInternal || r.Error.Code == contract.CodeUnavailable {
		level = slog.LevelWarn
	}
	c.logger().Log(context.Background(), level, "request failed", "account", account, "request", r.Re,
		"code", r.Error.Code, "message", r.Error.Message)
}
