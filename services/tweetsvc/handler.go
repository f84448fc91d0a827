// Package tweetsvc wires the tweet world to NATS.
package tweetsvc

import (
	"encoding/json"
	"fmt"
	"strings"

	"chirp/contract"
	"chirp/services/loop"
	"chirp/services/tweet"
)

// handler steps the tweet world; it runs on the loop goroutine.
type handler struct {
	w *tweet.World
}

func (h *handler) Handle(m *loop.Msg, out *loop.Out) error {
	var in tweet.Input
	meta := tweet.Meta{Seq: m.Seq, At: m.At, Reply: m.Reply, Request: m.Request}
	switch {
	case strings.HasPrefix(m.Subject, contract.EvtUserCreated+"."):
		var e contract.UserCreated
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return fmt.Errorf("decode user created: %w", err)
		}
		in = tweet.UserCreated{Meta: meta, Handle: e.Handle}
	case strings.HasPrefix(m.Subject, contract.CmdPost+"."):
		var c contract.PostCmd
		if err := json.Unmarshal(m.Data, &c); err != nil {
			return fmt.Errorf("decode post: %w", err)
		}
		in = tweet.Post{Meta: meta, Author: c.Author, Text: c.Text}
	case strings.HasPrefix(m.Subject, contract.CmdLike+"."):
		var c contract.LikeCmd
		if err := json.Unmarshal(m.Data, &c); err != nil {
			return fmt.Errorf("decode like: %w", err)
		}
		in = tweet.Like{Meta: meta, User: c.User, Tweet: c.Tweet}
	default:
		return fmt.Errorf("unexpected subject %s", m.Subject)
	}
	for _, e := range h.w.Step(in) {
		var err error
		switch e := e.(type) {
		case tweet.Publish:
			err = out.Event(e.Subject, e.Event, e.Reply)
		case tweet.Respond:
			err = out.Reply(e.To, e.Body)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Snapshot and Restore let the loop save and load the world.
func (h *handler) Snapshot() ([]byte, error) { return h.w.Snapshot() }
func (h *handler) Restore(b []byte) error    { return h.w.Restore(b) }
