package feed

import "chirp/contract"

// PushRetain is how many of its latest pushes an account's log keeps for
// clients that resume after a disconnect.
const PushRetain = 800

// record is one push as the log keeps it. A tweet push keeps the like count
// the tweet had when it was pushed, so a replay never shows a count going
// back.
type record struct {
	seq   uint64
	e     *entry
	likes int
	kind  uint8
}

const (
	kindTweet uint8 = iota + 1
	kindLikes
)

// pushLog is a ring of an account's latest PushRetain pushes, in seq order.
// Every seq from the first kept one to the account's last is in it: seqs
// advance for every push, whether or not the account is online.
type pushLog struct {
	recs  []record
	start int // index of the oldest record once the ring is full
}

func (l *pushLog) add(r record) {
	if len(l.recs) < PushRetain {
		l.recs = append(l.recs, r)
		return
	}
	l.recs[l.start] = r
	l.start = (l.start + 1) % PushRetain
}

func (l *pushLog) len() int { return len(l.recs) }

// at returns the i-th oldest record.
func (l *pushLog) at(i int) record { return l.recs[(l.start+i)%len(l.recs)] }

// after returns the records with seq > since, oldest first, and whether
// records after since are missing because they were dropped (a gap).
func (l *pushLog) after(since, last uint64) (recs []record, gap bool) {
	n := l.len()
	if n == 0 {
		return nil, last > since
	}
	first := l.at(0).seq
	gap = since+1 < first
	for i := 0; i < n; i++ {
		if r := l.at(i); r.seq > since {
			recs = append(recs, r)
		}
	}
	return recs, gap
}

// pushes turns records into the contract's form.
func pushes(recs []record) []contract.PushRecord {
	out := make([]contract.PushRecord, 0, len(recs))
	for _, r := range recs {
		p := contract.PushRecord{Seq: r.seq}
		switch r.kind {
		case kindTweet:
			t := r.e.t
			t.Likes = r.likes
			p.Kind, p.Tweet = contract.PushTweet, &t
		case kindLikes:
			p.Kind, p.TweetID, p.Likes = contract.PushLikes, r.e.t.ID, r.likes
		}
		out = append(out, p)
	}
	return out
}
