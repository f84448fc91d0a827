package user

import "time"

// Input is the closed set of inputs the user world accepts.
type Input interface{ isInput() }

// Meta is what the stream says about a stored input: its position, the time
// it was stored (the only clock the world sees) and where the final reply
// to the request behind it goes ("" for none).
type Meta struct {
	Seq   uint64
	At    time.Time
	Reply string
	// Request identifies the client request behind a command ("" for
	// none); a command whose Request the world has already applied is
	// answered with the original outcome and changes nothing.
	Request string
}

// Signup asks to create an account. Hash is computed outside the world.
type Signup struct {
	Meta
	Handle string
	Hash   string
}

// Follow asks that Follower follow Followee.
type Follow struct {
	Meta
	Follower string
	Followee string
}

// Login is a query: it reads the account's hash so the password can be
// checked outside the world. It changes nothing.
type Login struct {
	Reply    string
	Handle   string
	Password string
}

// Known says an account exists (its UserCreated event). Partitions that do
// not own it remember its handle.
type Known struct {
	Meta
	Handle string
}

func (Known) isInput()  {}
func (Signup) isInput() {}
func (Follow) isInput() {}
func (Login) isInput()  {}
