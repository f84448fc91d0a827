package feed

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sort"

	"chirp/contract"
)

// snapshot is the encoded form of a World. Every tweet is stored once, in
// its author's own list; feeds refer to tweets by id (a feed only holds
// tweets some own list holds).
type snapshot struct {
	Accounts []snapAccount
}

type snapAccount struct {
	Key       string
	Own       []contract.Tweet
	Feed      []string
	Followers []string
	Following []string
	Online    []string
	Seq       uint64
	Log       []snapRecord
}

// snapRecord is a logged push. Tweet is set only when the tweet is no
// longer in its author's list (so not in w.tweets); otherwise ID refers
// to it.
type snapRecord struct {
	Seq   uint64
	ID    string
	Likes int
	Kind  uint8
	Tweet *contract.Tweet
}

// Snapshot encodes the whole state.
func (w *World) Snapshot() ([]byte, error) { return w.Capture()() }

// Capture copies what a snapshot of the current state needs and returns
// the function that encodes it. The copy shares nothing the world changes
// later, so encode may run on another goroutine while the world steps on:
// only the copy stops the world, not the encoding, which costs several
// times more.
func (w *World) Capture() (encode func() ([]byte, error)) {
	var s snapshot
	for key, a := range w.accounts {
		sa := snapAccount{Key: key, Seq: a.seq}
		for _, f := range a.followers {
			sa.Followers = append(sa.Followers, f.key)
		}
		for _, e := range a.own.list() {
			sa.Own = append(sa.Own, e.t)
		}
		for _, e := range a.feed.list() {
			sa.Feed = append(sa.Feed, e.t.ID)
		}
		for i := 0; i < a.log.len(); i++ {
			r := a.log.at(i)
			sr := snapRecord{Seq: r.seq, ID: r.e.t.ID, Likes: r.likes, Kind: r.kind}
			if w.tweets[r.e.t.ID] != r.e {
				t := r.e.t
				sr.Tweet = &t
			}
			sa.Log = append(sa.Log, sr)
		}
		sa.Following = sortedKeys(a.following)
		sa.Online = sortedKeys(a.online)
		s.Accounts = append(s.Accounts, sa)
	}
	return func() ([]byte, error) {
		sort.Slice(s.Accounts, func(i, j int) bool { return s.Accounts[i].Key < s.Accounts[j].Key })
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(s); err != nil {
			return nil, fmt.Errorf("encode feed snapshot: %w", err)
		}
		return buf.Bytes(), nil
	}
}

// Restore replaces the state with a snapshot's. On error the world is
// unchanged.
func (w *World) Restore(b []byte) error {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return fmt.Errorf("decode feed snapshot: %w", err)
	}
	n := NewPartition(w.part)
	for _, sa := range s.Accounts {
		a := n.account(sa.Key)
		for _, t := range sa.Own {
			e := &entry{t: t}
			a.own.back = append(a.own.back, e)
			n.tweets[t.ID] = e
		}
	}
	for _, sa := range s.Accounts {
		a := n.accounts[sa.Key]
		a.feed.back = make(timeline, 0, len(sa.Feed))
		for _, id := range sa.Feed {
			e, ok := n.tweets[id]
			if !ok {
				return fmt.Errorf("feed snapshot: %s's feed holds unknown tweet %s", sa.Key, id)
			}
			a.feed.back = append(a.feed.back, e)
		}
		for _, k := range sa.Followers {
			a.followers = append(a.followers, n.account(k))
		}
		for _, k := range sa.Following {
			a.following[k] = struct{}{}
		}
		for _, gw := range sa.Online {
			if a.online == nil {
				a.online = map[string]struct{}{}
			}
			a.online[gw] = struct{}{}
			if n.gateways[gw] == nil {
				n.gateways[gw] = map[string]struct{}{}
			}
			n.gateways[gw][sa.Key] = struct{}{}
		}
		a.seq = sa.Seq
		for _, sr := range sa.Log {
			e, ok := n.tweets[sr.ID]
			if sr.Tweet != nil {
				e, ok = &entry{t: *sr.Tweet}, true
			}
			if !ok {
				return fmt.Errorf("feed snapshot: %s's push log holds unknown tweet %s", sa.Key, sr.ID)
			}
			a.log.add(record{seq: sr.Seq, e: e, likes: sr.Likes, kind: sr.Kind})
		}
	}
	*w = *n
	return nil
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
