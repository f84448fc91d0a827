// Package tweet is the tweet service's world: tweets and likes. It learns
// which accounts exist from the user service's events. It is a pure state
// machine: Step is its only entry point, and it does no IO and reads no
// clock; a tweet's id comes from its author's tweet count and its time from
// the input.
package tweet

import (
	"chirp/contract"
)

// World holds every account it has heard of and the tweets of the
// accounts its partition owns (see contract.Partition): a post belongs to
// its author's partition, a like to the partition of the tweet's author.
type World struct {
	part     contract.Partition
	accounts map[string]*account // by key
	tweets   map[string]*tweet   // by id
}

type account struct {
	handle string
	posted uint64 // tweets posted so far; the next id uses posted+1
	// recent holds the account's last RecentRequests accepted posts that
	// carried a request id, oldest first, so a retried post is answered
	// with the tweet it created instead of a second one.
	recent []recentPost
}

// recentPost is the outcome of one accepted post request.
type recentPost struct {
	Request string
	Tweet   contract.Tweet
}

// RecentRequests is how many of an account's latest post requests the world
// remembers. A client retries a request whose reply it lost before it
// sends many more, so a small window suffices.
const RecentRequests = 16

type tweet struct {
	authorKey string
	likers    map[string]struct{}
}

// New returns an empty world owning every key.
func New() *World { return NewPartition(contract.Partition{}) }

// NewPartition returns an empty world for one partition.
func NewPartition(p contract.Partition) *World {
	return &World{part: p, accounts: make(map[string]*account), tweets: make(map[string]*tweet)}
}

// Step applies one input and returns the effects to perform, in order.
// A rejected input changes nothing.
func (w *World) Step(in Input) []Effect {
	switch in := in.(type) {
	case UserCreated:
		key := contract.Key(in.Handle)
		if _, ok := w.accounts[key]; !ok && contract.ValidHandle(in.Handle) {
			w.accounts[key] = &account{handle: in.Handle}
		}
		return nil
	case Post:
		return w.post(in)
	case Like:
		return w.like(in)
	}
	return nil
}

func (w *World) post(in Post) []Effect {
	key := contract.Key(in.Author)
	if !w.part.Owns(key) {
		return nil
	}
	author, ok := w.accounts[key]
	if !ok {
		return fail(in.Reply, contract.CodeNotFound, "no such account: "+in.Author)
	}
	if !contract.ValidText(in.Text) {
		return fail(in.Reply, contract.CodeInvalid, "text must be 1-280 characters of valid UTF-8")
	}
	if in.Request != "" {
		for _, r := range author.recent {
			if r.Request == in.Request {
				// A retry: the same event again, so the reply still comes
				// after the tweet is in the author's feed; the feed
				// service knows the id and adds nothing.
				return []Effect{Publish{
					Subject: contract.Subject(contract.EvtTweetPosted, key),
					Event:   contract.TweetPosted{Tweet: r.Tweet},
					Reply:   in.Reply,
				}}
			}
		}
	}
	author.posted++
	id := contract.TweetID(key, author.posted)
	w.tweets[id] = &tweet{authorKey: key, likers: map[string]struct{}{}}
	t := contract.Tweet{ID: id, Author: author.handle, Text: in.Text, At: contract.FormatTime(in.At)}
	if in.Request != "" {
		if len(author.recent) == RecentRequests {
			author.recent = append(author.recent[:0], author.recent[1:]...)
		}
		author.recent = append(author.recent, recentPost{Request: in.Request, Tweet: t})
	}
	return []Effect{Publish{
		Subject: contract.Subject(contract.EvtTweetPosted, key),
		Event:   contract.TweetPosted{Tweet: t},
		Reply:   in.Reply,
	}}
}

func (w *World) like(in Like) []Effect {
	if owner, _ := contract.TweetAuthorKey(in.Tweet); !w.part.Owns(owner) {
		return nil // a malformed id has owner "", which one partition owns
	}
	liker, ok := w.accounts[contract.Key(in.User)]
	if !ok {
		return fail(in.Reply, contract.CodeNotFound, "no such account: "+in.User)
	}
	t, ok := w.tweets[in.Tweet]
	if !ok {
		return fail(in.Reply, contract.CodeNotFound, "no such tweet: "+in.Tweet)
	}
	// A repeated like changes nothing but is still published with the
	// unchanged count, so the feed service answers it after the first one.
	t.likers[contract.Key(liker.handle)] = struct{}{}
	return []Effect{Publish{
		Subject: contract.Subject(contract.EvtTweetLiked, t.authorKey),
		Event: contract.TweetLiked{
			Tweet:  in.Tweet,
			Author: w.accounts[t.authorKey].handle,
			By:     liker.handle,
			Likes:  len(t.likers),
		},
		Reply: in.Reply,
	}}
}

// Likes returns the like count of a tweet and whether it exists.
func (w *World) Likes(id string) (int, bool) {
	t, ok := w.tweets[id]
	if !ok {
		return 0, false
	}
	return len(t.likers), true
}

func fail(to, code, message string) []Effect {
	return []Effect{Respond{To: to, Body: contract.Fail(code, message)}}
}
