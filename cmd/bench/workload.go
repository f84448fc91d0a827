package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"chirp/cmd/loadcheck"
)

// Workload is who is connected and who posts to whom, the same for every
// system the bench measures: socket i acts as account i mod the graph's
// accounts; a post by an author is delivered to every socket of the
// author and of its followers (on Centrifugo and raw NATS: to the
// channel or subject of each of those sockets).
type Workload struct {
	Sockets  int
	Accounts int   // accounts with at least one socket
	Owner    []int // per socket, its account
	// Authors are the accounts that post, in turn: the Authors online
	// accounts with the most recipient sockets.
	Authors    []int
	Recipients [][]int // per author index, the sockets each of its posts reaches
}

// NewWorkload builds the workload for sockets sockets on graph g with the
// top authors authors.
func NewWorkload(g *loadcheck.Graph, sockets, authors int) (*Workload, error) {
	if sockets < 1 || authors < 1 {
		return nil, fmt.Errorf("workload: want at least one socket and one author, got %d and %d", sockets, authors)
	}
	w := &Workload{Sockets: sockets, Accounts: min(sockets, g.N), Owner: make([]int, sockets)}
	socketsOf := make([][]int, g.N)
	for i := range sockets {
		a := i % g.N
		w.Owner[i] = a
		socketsOf[a] = append(socketsOf[a], i)
	}
	followers := make([][]int, g.N)
	for _, e := range g.Edges {
		if e.Followee < w.Accounts && e.Follower < w.Accounts {
			followers[e.Followee] = append(followers[e.Followee], e.Follower)
		}
	}
	recips := make([][]int, w.Accounts)
	for a := range recips {
		rs := slices.Clone(socketsOf[a])
		for _, f := range followers[a] {
			rs = append(rs, socketsOf[f]...)
		}
		slices.Sort(rs)
		recips[a] = rs
	}
	order := make([]int, w.Accounts)
	for a := range order {
		order[a] = a
	}
	slices.SortStableFunc(order, func(x, y int) int { return len(recips[y]) - len(recips[x]) })
	w.Authors = order[:min(authors, len(order))]
	for _, a := range w.Authors {
		w.Recipients = append(w.Recipients, recips[a])
	}
	return w, nil
}

// Fanout returns the mean number of recipient sockets per post.
func (w *Workload) Fanout() float64 {
	n := 0
	for _, r := range w.Recipients {
		n += len(r)
	}
	return float64(n) / float64(len(w.Recipients))
}

// Post returns the author index of post k.
func (w *Workload) Post(k int) int { return k % len(w.Authors) }

// sourceAddr spreads client sockets over 127.0.1.1-127.0.1.200 so that no
// source address runs short of ports, whatever the socket count.
func sourceAddr(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%200))}
}

// marker starts the part of every post's text the receivers look for:
// "bench:<phase letter><post index>:".
const marker = "bench:"

// postText is the text of post k of phase tag, padded with 'x' to size
// bytes (at least the marker and numbers).
func postText(tag byte, k, size int) string {
	s := marker + string(tag) + strconv.Itoa(k) + ":"
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

// parseMarker finds a post's phase tag and index in data (a push frame, a
// tweet text or a raw payload).
func parseMarker(data []byte) (tag byte, k int, ok bool) {
	i := bytes.Index(data, []byte(marker))
	if i < 0 || i+len(marker)+2 > len(data) {
		return 0, 0, false
	}
	rest := data[i+len(marker):]
	tag = rest[0]
	n, digits := 0, 0
	for _, c := range rest[1:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		digits++
	}
	if digits == 0 || digits > 9 || len(rest) <= 1+digits || rest[1+digits] != ':' {
		return 0, 0, false
	}
	return tag, n, true
}

// pushPayload is a Chirp tweet push as the gateway sends it, for the
// systems that carry an opaque payload: the same bytes per delivery.
func pushPayload(handle, text string) []byte {
	type tweet struct {
		ID     string `json:"id"`
		Author string `json:"author"`
		Text   string `json:"text"`
		At     string `json:"at"`
		Likes  int64  `json:"likes"`
	}
	b, _ := json.Marshal(struct {
		Push  string `json:"push"`
		Seq   int64  `json:"seq"`
		Tweet tweet  `json:"tweet"`
	}{"tweet", 1000, tweet{handle + "-00001000", handle, text, "2026-01-01T00:00:00.000Z", 0}})
	return b
}
