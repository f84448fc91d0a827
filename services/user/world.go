// Package user is the user service's world: accounts, password hashes and
// the follow graph. It is a pure state machine: Step is its only entry
// point, and it does no IO and reads no clock.
package user

import (
	"chirp/contract"
)

// World holds the accounts its partition owns (see contract.Partition)
// and knows the handles of all others, learnt from their UserCreated
// events, so a follow of an account owned elsewhere can be checked. The
// zero value is not usable; use New or NewPartition.
type World struct {
	part     contract.Partition
	accounts map[string]*account // owned, by key (lower-cased handle)
	known    map[string]string   // handles of accounts owned elsewhere, by key
}

type account struct {
	handle    string
	hash      string
	following map[string]struct{}
	request   string // id of the signup request that created it, if any
}

// New returns an empty world owning every key.
func New() *World { return NewPartition(contract.Partition{}) }

// NewPartition returns an empty world for one partition.
func NewPartition(p contract.Partition) *World {
	return &World{part: p, accounts: make(map[string]*account), known: make(map[string]string)}
}

// Step applies one input and returns the effects to perform, in order.
// A rejected input changes nothing.
func (w *World) Step(in Input) []Effect {
	switch in := in.(type) {
	case Signup:
		return w.signup(in)
	case Follow:
		return w.follow(in)
	case Login:
		return w.login(in)
	case Known:
		if key := contract.Key(in.Handle); !w.part.Owns(key) && contract.ValidHandle(in.Handle) {
			w.known[key] = in.Handle
		}
	}
	return nil
}

func (w *World) signup(in Signup) []Effect {
	if !contract.ValidHandle(in.Handle) {
		return fail(in.Reply, contract.CodeInvalid, "handle must be 1-30 characters of A-Z, a-z, 0-9 and _")
	}
	if in.Hash == "" {
		return fail(in.Reply, contract.CodeBadRequest, "signup command without a password hash")
	}
	key := contract.Key(in.Handle)
	if !w.part.Owns(key) {
		return nil
	}
	if a, ok := w.accounts[key]; ok {
		if in.Request != "" && a.request == in.Request {
			// Perhaps a retry of the signup that created it; only the
			// password can tell, and the world never sees one, so the
			// gateway is told to log in with it instead.
			return []Effect{Respond{To: in.Reply, Body: contract.RetriedSignup()}}
		}
		return fail(in.Reply, contract.CodeConflict, "handle is taken")
	}
	w.accounts[key] = &account{handle: in.Handle, hash: in.Hash, following: map[string]struct{}{}, request: in.Request}
	return []Effect{
		Publish{
			Subject: contract.Subject(contract.EvtUserCreated, key),
			Event:   contract.UserCreated{Handle: in.Handle, At: contract.FormatTime(in.At)},
		},
		Respond{To: in.Reply, Body: contract.UserReply{OK: true, User: contract.User{Handle: in.Handle}}},
	}
}

func (w *World) follow(in Follow) []Effect {
	if !w.part.Owns(contract.Key(in.Follower)) {
		return nil
	}
	follower, ok := w.accounts[contract.Key(in.Follower)]
	if !ok {
		return fail(in.Reply, contract.CodeNotFound, "no such account: "+in.Follower)
	}
	if !contract.ValidHandle(in.Followee) {
		return fail(in.Reply, contract.CodeInvalid, "handle must be 1-30 characters of A-Z, a-z, 0-9 and _")
	}
	key := contract.Key(in.Followee)
	if key == contract.Key(follower.handle) {
		return fail(in.Reply, contract.CodeInvalid, "you cannot follow yourself")
	}
	followee, ok := w.handle(key)
	if !ok {
		return fail(in.Reply, contract.CodeNotFound, "no such account: "+in.Followee)
	}
	// A repeated follow changes nothing here but is still published: the
	// feed service answers it, after any earlier follow's backfill.
	follower.following[key] = struct{}{}
	return []Effect{Publish{
		Subject: contract.Subject(contract.EvtUserFollowed, contract.Key(follower.handle)),
		Event:   contract.UserFollowed{Follower: follower.handle, Followee: followee, At: contract.FormatTime(in.At)},
		Reply:   in.Reply,
	}}
}

// handle returns the handle of any account, owned here or not.
func (w *World) handle(key string) (string, bool) {
	if a, ok := w.accounts[key]; ok {
		return a.handle, true
	}
	h, ok := w.known[key]
	return h, ok
}

func (w *World) login(in Login) []Effect {
	if !w.part.Owns(contract.Key(in.Handle)) {
		return nil
	}
	acct, ok := w.accounts[contract.Key(in.Handle)]
	if !ok || !contract.ValidHandle(in.Handle) {
		// Same answer as a wrong password: no probing for handles.
		return fail(in.Reply, contract.CodeUnauthenticated, "wrong handle or password")
	}
	return []Effect{VerifyPassword{To: in.Reply, Hash: acct.hash, Password: in.Password, User: contract.User{Handle: acct.handle}}}
}

// Following reports whether follower follows followee (for tests and
// snapshots).
func (w *World) Following(follower, followee string) bool {
	a, ok := w.accounts[contract.Key(follower)]
	if !ok {
		return false
	}
	_, ok = a.following[contract.Key(followee)]
	return ok
}

// Accounts returns the number of accounts.
func (w *World) Accounts() int { return len(w.accounts) }

func fail(to, code, message string) []Effect {
	return []Effect{Respond{To: to, Body: contract.Fail(code, message)}}
}
