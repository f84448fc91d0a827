// Package usersvc wires the user world to NATS: endpoints, the loop, and
// the effects only IO can perform (password checks).
package usersvc

import (
	"encoding/json"
	"fmt"
	"strings"

	"chirp/contract"
	"chirp/services/loop"
	"chirp/services/user"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"
)

// handler steps the user world; it runs on the loop goroutine.
type handler struct {
	w *user.World
}

func (h *handler) Handle(m *loop.Msg, out *loop.Out) error {
	var in user.Input
	meta := user.Meta{Seq: m.Seq, At: m.At, Reply: m.Reply, Request: m.Request}
	switch {
	case strings.HasPrefix(m.Subject, contract.CmdSignup+"."):
		var c contract.SignupCmd
		if err := json.Unmarshal(m.Data, &c); err != nil {
			return fmt.Errorf("decode signup: %w", err)
		}
		in = user.Signup{Meta: meta, Handle: c.Handle, Hash: c.Hash}
	case strings.HasPrefix(m.Subject, contract.CmdFollow+"."):
		var c contract.FollowCmd
		if err := json.Unmarshal(m.Data, &c); err != nil {
			return fmt.Errorf("decode follow: %w", err)
		}
		in = user.Follow{Meta: meta, Follower: c.Follower, Followee: c.Followee}
	case strings.HasPrefix(m.Subject, contract.EvtUserCreated+"."):
		var e contract.UserCreated
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return fmt.Errorf("decode user created: %w", err)
		}
		in = user.Known{Meta: meta, Handle: e.Handle}
	case m.Subject == contract.SubjLogin:
		var r contract.LoginRequest
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return fmt.Errorf("decode login: %w", err)
		}
		in = user.Login{Reply: m.Reply, Handle: r.Handle, Password: r.Password}
	default:
		return fmt.Errorf("unexpected subject %s", m.Subject)
	}
	for _, e := range h.w.Step(in) {
		if err := perform(e, out); err != nil {
			return err
		}
	}
	return nil
}

func perform(e user.Effect, out *loop.Out) error {
	switch e := e.(type) {
	case user.Publish:
		return out.Event(e.Subject, e.Event, e.Reply)
	case user.Respond:
		return out.Reply(e.To, e.Body)
	case user.VerifyPassword:
		out.Go(func() *nats.Msg { return verify(e) })
	}
	return nil
}

// verify checks a password off the loop goroutine.
func verify(e user.VerifyPassword) *nats.Msg {
	if e.To == "" {
		return nil
	}
	var body any = contract.UserReply{OK: true, User: e.User}
	if bcrypt.CompareHashAndPassword([]byte(e.Hash), []byte(e.Password)) != nil {
		body = contract.Fail(contract.CodeUnauthenticated, "wrong handle or password")
	}
	data, _ := json.Marshal(body)
	return &nats.Msg{Subject: e.To, Data: data}
}

// Snapshot and Restore let the loop save and load the world.
func (h *handler) Snapshot() ([]byte, error) { return h.w.Snapshot() }
func (h *handler) Restore(b []byte) error    { return h.w.Restore(b) }
