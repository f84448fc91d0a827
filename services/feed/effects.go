package feed

import "chirp/contract"

// Effect is the closed set of effects the feed world emits. The loop
// performs them in the order given; the world emits a request's Respond
// before the pushes it causes, so a writer hears back first.
type Effect interface{ isEffect() }

// Respond answers a request.
type Respond struct {
	To   string
	Body any
}

// PushTweet sends a tweet push to each account in Keys; Seqs[i] is the push
// sequence number of Keys[i]. One effect for all recipients lets the loop
// encode the tweet once.
type PushTweet struct {
	Keys  []string
	Seqs  []uint64
	Tweet contract.Tweet
}

// PushLikes sends a like-count push to each account in Keys.
type PushLikes struct {
	Keys  []string
	Seqs  []uint64
	Tweet string
	Likes int
}

// Replay answers a Resume: the retained pushes after its Since, oldest
// first; Seq is the account's newest push seq, Gap says some pushes after
// Since are no longer retained.
type Replay struct {
	To     string
	Seq    uint64
	Gap    bool
	Pushes []contract.PushRecord
}

func (Replay) isEffect()    {}
func (Respond) isEffect()   {}
func (PushTweet) isEffect() {}
func (PushLikes) isEffect() {}
