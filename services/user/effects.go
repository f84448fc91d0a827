package user

import "chirp/contract"

// Effect is the closed set of effects the user world emits.
//
// The loop performs the effects of one input in order, with one rule: every
// Publish of an input is stored and acknowledged by the stream before any
// Respond of that input is sent. VerifyPassword runs off the world's
// goroutine and answers on its own.
type Effect interface{ isEffect() }

// Publish stores an event on the stream. Reply, when set, travels with the
// event: the consumer that completes the request answers there.
type Publish struct {
	Subject string
	Event   any
	Reply   string
}

// Respond answers a request.
type Respond struct {
	To   string
	Body any
}

// VerifyPassword checks Password against Hash (expensive, so outside the
// world) and answers To with User on success and unauthenticated otherwise.
type VerifyPassword struct {
	To       string
	Hash     string
	Password string
	User     contract.User
}

func (Publish) isEffect()        {}
func (Respond) isEffect()        {}
func (VerifyPassword) isEffect() {}
