// Package feed is the feed service's world: every account's home feed
// (fan-out on write), who is online, and the pushes. It is a pure state
// machine: Step is its only entry point, and it does no IO and reads no
// clock.
//
// Invariant: feed(U) holds the newest contract.FeedCap tweets whose author
// is U or an account U follows, oldest first. An author's own list keeps
// only its newest FeedCap tweets, which is enough: an older one cannot be in
// anybody's newest FeedCap.
package feed

import (
	"chirp/contract"
)

// World holds every feed of the accounts its partition owns.
//
// Partitioned (see contract.Partition), every partition sees every tweet
// and like and keeps every author's own list, so it can backfill any
// follow; feeds, followers lists, presence and pushes exist only for the
// accounts it owns. A request is answered by the partition that owns its
// account: a post by the author's, a like by the liker's, a follow by the
// follower's.
type World struct {
	part     contract.Partition
	accounts map[string]*account // by key
	tweets   map[string]*entry   // by id; only tweets some author list holds
	gateways map[string]map[string]struct{}
}

type account struct {
	key       string              // lower-cased handle
	feed      window              // home feed
	own       window              // this account's own newest tweets
	followers []*account          // in follow order
	following map[string]struct{} // keys
	online    map[string]struct{} // gateways with a socket of this account
	seq       uint64              // last push sequence number
	log       pushLog             // the latest pushes, for resuming clients
}

// New returns an empty world owning every key.
func New() *World { return NewPartition(contract.Partition{}) }

// NewPartition returns an empty world for one partition.
func NewPartition(p contract.Partition) *World {
	return &World{
		part:     p,
		accounts: make(map[string]*account),
		tweets:   make(map[string]*entry),
		gateways: make(map[string]map[string]struct{}),
	}
}

// Step applies one input and returns the effects to perform, in order.
func (w *World) Step(in Input) []Effect {
	switch in := in.(type) {
	case Posted:
		return w.posted(in)
	case Liked:
		return w.liked(in)
	case Followed:
		return w.followed(in)
	case Presence:
		w.presence(in)
		return nil
	case GatewayStarted:
		for key := range w.gateways[in.Gateway] {
			delete(w.accounts[key].online, in.Gateway)
		}
		delete(w.gateways, in.Gateway)
		return nil
	case Read:
		return w.read(in)
	case Resume:
		return w.resume(in)
	}
	return nil
}

func (w *World) account(key string) *account {
	a, ok := w.accounts[key]
	if !ok {
		a = &account{key: key, following: map[string]struct{}{}}
		w.accounts[key] = a
	}
	return a
}

func (w *World) posted(in Posted) []Effect {
	key := contract.Key(in.Tweet.Author)
	var reply []Effect
	if w.part.Owns(key) {
		reply = respond(in.Reply, contract.TweetReply{OK: true, Tweet: in.Tweet})
	}
	if e, dup := w.tweets[in.Tweet.ID]; dup {
		// A retried post: already delivered; answer with its current state.
		if reply != nil {
			reply = respond(in.Reply, contract.TweetReply{OK: true, Tweet: e.t})
		}
		return reply
	}
	if in.Tweet.ID == "" {
		return reply
	}
	author := w.account(key)
	e := &entry{t: in.Tweet}
	added, dropped := author.own.insert(e, contract.FeedCap)
	if !added {
		return reply
	}
	w.tweets[e.t.ID] = e
	if dropped != nil {
		// No feed can hold a tweet its author's list no longer holds.
		delete(w.tweets, dropped.t.ID)
	}
	push := PushTweet{Tweet: in.Tweet}
	room := len(author.followers) + 1
	if w.part.Owns(key) {
		w.deliver(author, e, &push, room)
	}
	for _, f := range author.followers {
		w.deliver(f, e, &push, room)
	}
	if len(push.Keys) == 0 {
		return reply
	}
	return append(reply, push)
}

// deliver puts e in a's feed and logs a push; if a is online, the push
// goes out. The first recipient sizes Keys and Seqs for room recipients
// (the author and its followers), so a fan-out allocates them once.
func (w *World) deliver(a *account, e *entry, push *PushTweet, room int) {
	if added, _ := a.feed.insert(e, contract.FeedCap); !added {
		return
	}
	a.seq++
	a.log.add(record{seq: a.seq, e: e, likes: e.t.Likes, kind: kindTweet})
	if len(a.online) == 0 {
		return
	}
	if push.Keys == nil {
		push.Keys, push.Seqs = make([]string, 0, room), make([]uint64, 0, room)
	}
	push.Keys = append(push.Keys, a.key)
	push.Seqs = append(push.Seqs, a.seq)
}

func (w *World) liked(in Liked) []Effect {
	var reply []Effect
	if w.part.Owns(contract.Key(in.By)) {
		reply = respond(in.Reply, contract.LikesReply{OK: true, Likes: in.Likes})
	}
	e, ok := w.tweets[in.Tweet]
	if !ok || e.t.Likes == in.Likes {
		return reply
	}
	e.t.Likes = in.Likes
	push := PushLikes{Tweet: in.Tweet, Likes: in.Likes}
	key := contract.Key(e.t.Author)
	author := w.accounts[key]
	room := len(author.followers) + 1
	if w.part.Owns(key) {
		w.notifyLikes(author, e, &push, room)
	}
	for _, f := range author.followers {
		w.notifyLikes(f, e, &push, room)
	}
	if len(push.Keys) == 0 {
		return reply
	}
	return append(reply, push)
}

func (w *World) notifyLikes(a *account, e *entry, push *PushLikes, room int) {
	if !a.feed.list().contains(e) {
		return
	}
	a.seq++
	a.log.add(record{seq: a.seq, e: e, likes: e.t.Likes, kind: kindLikes})
	if len(a.online) == 0 {
		return
	}
	if push.Keys == nil {
		push.Keys, push.Seqs = make([]string, 0, room), make([]uint64, 0, room)
	}
	push.Keys = append(push.Keys, a.key)
	push.Seqs = append(push.Seqs, a.seq)
}

func (w *World) followed(in Followed) []Effect {
	fk, tk := contract.Key(in.Follower), contract.Key(in.Followee)
	if !w.part.Owns(fk) {
		return nil
	}
	reply := respond(in.Reply, contract.EmptyReply{OK: true})
	if fk == tk {
		return reply
	}
	follower := w.account(fk)
	if _, ok := follower.following[tk]; ok {
		return reply
	}
	followee := w.account(tk)
	follower.following[tk] = struct{}{}
	followee.followers = append(followee.followers, follower)
	// Backfill: the followee's tweets enter the feed, without pushes.
	follower.feed = window{back: merge(follower.feed.list(), followee.own.list(), contract.FeedCap)}
	return reply
}

func (w *World) presence(in Presence) {
	key := contract.Key(in.Handle)
	if !w.part.Owns(key) {
		return
	}
	a := w.account(key)
	if in.Online {
		if a.online == nil {
			a.online = map[string]struct{}{}
		}
		a.online[in.Gateway] = struct{}{}
		if w.gateways[in.Gateway] == nil {
			w.gateways[in.Gateway] = map[string]struct{}{}
		}
		w.gateways[in.Gateway][key] = struct{}{}
		return
	}
	delete(a.online, in.Gateway)
	delete(w.gateways[in.Gateway], key)
}

func (w *World) read(in Read) []Effect {
	if !w.part.Owns(contract.Key(in.User)) {
		return nil
	}
	limit := in.Limit
	if limit == 0 {
		limit = contract.FeedDefaultLim
	}
	if limit < 1 || limit > contract.FeedMaxLimit {
		return respond(in.Reply, contract.Fail(contract.CodeInvalid, "limit must be 1-200"))
	}
	page := contract.FeedReply{OK: true, Tweets: []contract.Tweet{}}
	a, ok := w.accounts[contract.Key(in.User)]
	if !ok {
		return respond(in.Reply, page)
	}
	feed := a.feed.list()
	end := len(feed) // entries [0,end) are older than the cursor
	if in.Before != "" {
		at, id, ok := DecodeCursor(in.Before)
		if !ok {
			return respond(in.Reply, contract.Fail(contract.CodeInvalid, "before is not a cursor from this feed"))
		}
		probe := &entry{t: contract.Tweet{At: at, ID: id}}
		for end > 0 && !older(feed[end-1], probe) {
			end--
		}
	}
	page.Tweets = make([]contract.Tweet, 0, min(end, limit))
	for i := end - 1; i >= 0 && len(page.Tweets) < limit; i-- {
		page.Tweets = append(page.Tweets, feed[i].t)
	}
	if n := len(page.Tweets); n > 0 && end-n > 0 {
		last := page.Tweets[n-1]
		page.Next = EncodeCursor(last.At, last.ID)
	}
	return respond(in.Reply, page)
}

// resume answers with the account's retained pushes after in.Since.
func (w *World) resume(in Resume) []Effect {
	if !w.part.Owns(contract.Key(in.User)) {
		return nil
	}
	var last uint64
	a, ok := w.accounts[contract.Key(in.User)]
	if ok {
		last = a.seq
	}
	if in.Since > last {
		return respond(in.Reply, contract.Fail(contract.CodeInvalid, "since is ahead of the newest push"))
	}
	r := Replay{To: in.Reply, Seq: last}
	if ok {
		var recs []record
		recs, r.Gap = a.log.after(in.Since, last)
		r.Pushes = pushes(recs)
	}
	return []Effect{r}
}

// Feed returns the ids in key's feed, newest first (for tests).
func (w *World) Feed(handle string) []string {
	a, ok := w.accounts[contract.Key(handle)]
	if !ok {
		return nil
	}
	feed := a.feed.list()
	ids := make([]string, 0, len(feed))
	for i := len(feed) - 1; i >= 0; i-- {
		ids = append(ids, feed[i].t.ID)
	}
	return ids
}

// respond answers a request; the room for a second effect takes the push
// a post or like adds without growing the slice.
func respond(to string, body any) []Effect {
	return append(make([]Effect, 0, 2), Respond{To: to, Body: body})
}
