package feed

import (
	"time"

	"chirp/contract"
)

// Input is the closed set of inputs the feed world accepts.
type Input interface{ isInput() }

// Meta is what the stream says about a stored input: its position, the time
// it was stored and where the final reply to the request behind it goes.
type Meta struct {
	Seq   uint64
	At    time.Time
	Reply string
}

// Posted is a new tweet: it enters the feeds of its author and followers.
type Posted struct {
	Meta
	Tweet contract.Tweet
}

// Liked carries a tweet's absolute like count after By liked it.
type Liked struct {
	Meta
	Tweet string
	Likes int
	By    string
}

// Followed says Follower now follows Followee (maybe again).
type Followed struct {
	Meta
	Follower string
	Followee string
}

// Presence says Handle has (Online) or no longer has sockets on Gateway.
type Presence struct {
	Meta
	Handle  string
	Gateway string
	Online  bool
}

// GatewayStarted clears the presence an earlier run of Gateway left.
type GatewayStarted struct {
	Meta
	Gateway string
}

// Read is a query for one page of User's feed. Limit is 1-200; Before is a
// cursor from an earlier page or "".
type Read struct {
	Reply  string
	User   string
	Limit  int
	Before string
}

// Resume is a query for User's retained pushes after seq Since.
type Resume struct {
	Reply string
	User  string
	Since uint64
}

func (Resume) isInput()         {}
func (Posted) isInput()         {}
func (Liked) isInput()          {}
func (Followed) isInput()       {}
func (Presence) isInput()       {}
func (GatewayStarted) isInput() {}
func (Read) isInput()           {}
