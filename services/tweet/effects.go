package tweet

// Effect is the closed set of effects the tweet world emits.
//
// The loop performs the effects of one input in order, with one rule: every
// Publish of an input is stored and acknowledged by the stream before any
// Respond of that input is sent.
type Effect interface{ isEffect() }

// Publish stores an event on the stream. Reply, when set, travels with the
// event: the feed service answers the request once the feeds show it.
type Publish struct {
	Subject string
	Event   any
	Reply   string
}

// Respond answers a request (only rejections: accepted writes are answered
// by the feed service).
type Respond struct {
	To   string
	Body any
}

func (Publish) isEffect() {}
func (Respond) isEffect() {}
