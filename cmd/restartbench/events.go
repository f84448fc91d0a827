package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"chirp/cmd/loadcheck"
	"chirp/contract"
)

// eventMix counts the feed inputs a generator produced, by kind.
type eventMix struct {
	Follows, Posts, Likes int
}

// generator produces the feed service's input events, as the user and
// tweet services would have published them: first every follow of the
// graph in a shuffled order, then posts by uniformly chosen authors mixed
// with likes of recent tweets. It is deterministic for a seed.
//
// Invariant: every event it returns is valid for the feed world (authors
// and likers exist in the graph, a liked tweet was posted before, like
// counts per tweet rise by one with each like, times never go backwards).
type generator struct {
	rng      *rand.Rand
	edges    []loadcheck.Edge
	accounts int
	likeFrac float64
	at       time.Time
	nPosts   []uint64 // tweets posted per account
	recent   []string // ring of recently posted tweet ids, the like targets
	recentN  int
	likes    map[string]int
	mix      eventMix
	textBuf  []byte
}

// recentTweets bounds the like targets to the newest tweets, as likes
// concentrate on what feeds show.
const recentTweets = 4096

func newGenerator(g *loadcheck.Graph, seed uint64, likeFrac float64) *generator {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	edges := append([]loadcheck.Edge(nil), g.Edges...)
	rng.Shuffle(len(edges), func(i, j int) { edges[i], edges[j] = edges[j], edges[i] })
	return &generator{
		rng:      rng,
		edges:    edges,
		accounts: g.N,
		likeFrac: likeFrac,
		at:       time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		nPosts:   make([]uint64, g.N),
		recent:   make([]string, recentTweets),
		likes:    make(map[string]int),
	}
}

func handle(account int) string { return "u" + strconv.Itoa(account) }

// next returns the subject and payload of event number i (0-based; calls
// must come in order).
func (g *generator) next(i int) (string, []byte, error) {
	g.at = g.at.Add(10 * time.Millisecond)
	at := contract.FormatTime(g.at)
	if i < len(g.edges) {
		e := g.edges[i]
		g.mix.Follows++
		ev := contract.UserFollowed{Follower: handle(e.Follower), Followee: handle(e.Followee), At: at}
		return encode(contract.Subject(contract.EvtUserFollowed, contract.Key(ev.Follower)), ev)
	}
	if g.recentN > 0 && g.rng.Float64() < g.likeFrac {
		id := g.recent[g.rng.IntN(min(g.recentN, recentTweets))]
		author, ok := contract.TweetAuthorKey(id)
		if !ok {
			return "", nil, fmt.Errorf("generated tweet id %q has no author", id)
		}
		g.likes[id]++
		g.mix.Likes++
		ev := contract.TweetLiked{Tweet: id, Author: author, By: handle(g.rng.IntN(g.accounts)), Likes: g.likes[id]}
		return encode(contract.Subject(contract.EvtTweetLiked, author), ev)
	}
	a := g.rng.IntN(g.accounts)
	g.nPosts[a]++
	key := contract.Key(handle(a))
	t := contract.Tweet{ID: contract.TweetID(key, g.nPosts[a]), Author: handle(a), Text: g.text(a), At: at}
	g.recent[g.recentN%recentTweets] = t.ID
	g.recentN++
	g.mix.Posts++
	return encode(contract.Subject(contract.EvtTweetPosted, key), contract.TweetPosted{Tweet: t})
}

// text returns a tweet body of 40 to 140 characters.
func (g *generator) text(author int) string {
	const filler = "the quick brown fox jumps over the lazy dog while chirping about snapshots, replays and the price of fsync on a shared disk; "
	b := g.textBuf[:0]
	b = append(b, "post "...)
	b = strconv.AppendUint(b, g.nPosts[author], 10)
	b = append(b, " by u"...)
	b = strconv.AppendInt(b, int64(author), 10)
	b = append(b, ": "...)
	n := 40 + g.rng.IntN(101)
	for len(b) < n {
		b = append(b, filler[:min(len(filler), n-len(b))]...)
	}
	g.textBuf = b
	return string(b)
}

func encode(subject string, v any) (string, []byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", subject, err)
	}
	return subject, data, nil
}
