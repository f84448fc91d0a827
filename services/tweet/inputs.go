package tweet

import "time"

// Input is the closed set of inputs the tweet world accepts.
type Input interface{ isInput() }

// Meta is what the stream says about a stored input: its position, the time
// it was stored (the only clock the world sees; it becomes a tweet's "at")
// and where the final reply to the request behind it goes.
type Meta struct {
	Seq   uint64
	At    time.Time
	Reply string
	// Request identifies the client request behind a command ("" for
	// none); a command whose Request the world has already applied is
	// answered with the original outcome and changes nothing.
	Request string
}

// UserCreated tells the world an account exists.
type UserCreated struct {
	Meta
	Handle string
}

// Post asks to publish a tweet.
type Post struct {
	Meta
	Author string
	Text   string
}

// Like asks that User like the tweet with id Tweet.
type Like struct {
	Meta
	User  string
	Tweet string
}

func (UserCreated) isInput() {}
func (Post) isInput()        {}
func (Like) isInput()        {}
