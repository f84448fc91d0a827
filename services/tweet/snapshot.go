package tweet

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sort"
)

// snapshot is the encoded form of a World; slices are sorted so equal
// worlds encode to equal bytes.
type snapshot struct {
	Accounts []snapAccount
	Tweets   []snapTweet
}

type snapAccount struct {
	Key    string
	Handle string
	Posted uint64
	Recent []recentPost
}

type snapTweet struct {
	ID        string
	AuthorKey string
	Likers    []string
}

// Snapshot encodes the whole state.
func (w *World) Snapshot() ([]byte, error) {
	var s snapshot
	for k, a := range w.accounts {
		s.Accounts = append(s.Accounts, snapAccount{Key: k, Handle: a.handle, Posted: a.posted, Recent: a.recent})
	}
	sort.Slice(s.Accounts, func(i, j int) bool { return s.Accounts[i].Key < s.Accounts[j].Key })
	for id, t := range w.tweets {
		st := snapTweet{ID: id, AuthorKey: t.authorKey, Likers: make([]string, 0, len(t.likers))}
		for k := range t.likers {
			st.Likers = append(st.Likers, k)
		}
		sort.Strings(st.Likers)
		s.Tweets = append(s.Tweets, st)
	}
	sort.Slice(s.Tweets, func(i, j int) bool { return s.Tweets[i].ID < s.Tweets[j].ID })
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return nil, fmt.Errorf("encode tweet snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// Restore replaces the state with a snapshot's. On error the world is
// unchanged.
func (w *World) Restore(b []byte) error {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return fmt.Errorf("decode tweet snapshot: %w", err)
	}
	n := NewPartition(w.part)
	for _, a := range s.Accounts {
		n.accounts[a.Key] = &account{handle: a.Handle, posted: a.Posted, recent: a.Recent}
	}
	for _, st := range s.Tweets {
		if _, ok := n.accounts[st.AuthorKey]; !ok {
			return fmt.Errorf("tweet snapshot: tweet %s of unknown account %s", st.ID, st.AuthorKey)
		}
		t := &tweet{authorKey: st.AuthorKey, likers: make(map[string]struct{}, len(st.Likers))}
		for _, k := range st.Likers {
			t.likers[k] = struct{}{}
		}
		n.tweets[st.ID] = t
	}
	*w = *n
	return nil
}
