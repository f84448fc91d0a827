package contract

import "encoding/json"

// User is an account as shown to clients.
type User struct {
	Handle string `json:"handle"`
}

// Tweet is a tweet as shown to clients and carried by events.
// At is the acceptance time, RFC 3339 UTC with milliseconds.
type Tweet struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Text   string `json:"text"`
	At     string `json:"at"`
	Likes  int    `json:"likes"`
}

// Reply is what every request endpoint answers: OK with the result fields of
// the operation, or not OK with Error. The gateway forwards it to the client
// adding only "re" (and "token" for signup and login).
type Reply struct {
	OK     bool    `json:"ok"`
	Error  *Error  `json:"error,omitempty"`
	User   *User   `json:"user,omitempty"`
	Tweet  *Tweet  `json:"tweet,omitempty"`
	Likes  *int    `json:"likes,omitempty"`
	Tweets []Tweet `json:"tweets,omitempty"`
	Next   string  `json:"next,omitempty"`
	// SignupRetry marks the conflict answer to a signup whose request id
	// created the account: the gateway, which holds the password, then
	// logs in instead. Never sent to clients.
	SignupRetry bool `json:"signup_retry,omitempty"`
}

// Replies as services encode them; each has exactly the fields of its
// operation's result, so a client sees "tweets":[] rather than no field.
type (
	ErrorReply struct {
		OK    bool   `json:"ok"`
		Error *Error `json:"error"`
	}
	EmptyReply struct {
		OK bool `json:"ok"`
	}
	UserReply struct {
		OK   bool `json:"ok"`
		User User `json:"user"`
	}
	TweetReply struct {
		OK    bool  `json:"ok"`
		Tweet Tweet `json:"tweet"`
	}
	LikesReply struct {
		OK    bool `json:"ok"`
		Likes int  `json:"likes"`
	}
	FeedReply struct {
		OK     bool    `json:"ok"`
		Tweets []Tweet `json:"tweets"`
		Next   string  `json:"next,omitempty"`
	}
)

// SignupRetryReply answers a retried signup (see Reply.SignupRetry).
type SignupRetryReply struct {
	OK          bool   `json:"ok"`
	Error       *Error `json:"error"`
	SignupRetry bool   `json:"signup_retry"`
}

// RetriedSignup is the answer to a retried signup.
func RetriedSignup() SignupRetryReply {
	return SignupRetryReply{Error: &Error{Code: CodeConflict, Message: "handle is taken"}, SignupRetry: true}
}

// Fail builds the reply for a failed request.
func Fail(code, message string) ErrorReply {
	return ErrorReply{Error: &Error{Code: code, Message: message}}
}

// Requests to the endpoints. The acting account (Follower, Author, User) is
// set by the gateway from the authenticated connection, never by a client.
type (
	SignupRequest struct {
		Handle   string `json:"handle"`
		Password string `json:"password"`
	}
	LoginRequest struct {
		Handle   string `json:"handle"`
		Password string `json:"password"`
	}
	FollowRequest struct {
		Follower string `json:"follower"`
		Followee string `json:"followee"`
	}
	PostRequest struct {
		Author string `json:"author"`
		Text   string `json:"text"`
	}
	LikeRequest struct {
		User  string `json:"user"`
		Tweet string `json:"tweet"`
	}
	FeedRequest struct {
		User   string `json:"user"`
		Limit  int    `json:"limit,omitempty"`
		Before string `json:"before,omitempty"`
	}
)

// Commands stored on the CHIRP stream (chirp.cmd.*). The endpoint that
// accepted the request publishes them; only the owning service consumes them.
type (
	// SignupCmd carries a password hash, never the password.
	SignupCmd struct {
		Handle string `json:"handle"`
		Hash   string `json:"hash"`
	}
	FollowCmd = FollowRequest
	PostCmd   = PostRequest
	LikeCmd   = LikeRequest
)

// Events stored on the CHIRP stream (chirp.evt.*).
type (
	UserCreated struct {
		Handle string `json:"handle"`
		At     string `json:"at"`
	}
	// UserFollowed is published for every accepted follow, also a repeated
	// one, so the feed service can answer it; consumers must be idempotent.
	UserFollowed struct {
		Follower string `json:"follower"`
		Followee string `json:"followee"`
		At       string `json:"at"`
	}
	TweetPosted struct {
		Tweet Tweet `json:"tweet"`
	}
	// TweetLiked carries the absolute like count after the like (a repeated
	// like carries an unchanged count), so applying it twice is harmless.
	TweetLiked struct {
		Tweet  string `json:"tweet"`
		Author string `json:"author"`
		By     string `json:"by"`
		Likes  int    `json:"likes"`
	}
	// Presence says that handle opened its first (Online) or closed its last
	// socket on one gateway.
	Presence struct {
		Handle  string `json:"handle"`
		Gateway string `json:"gateway"`
		Online  bool   `json:"online"`
	}
	// GatewayStarted tells consumers to forget the presence a previous run
	// of the same gateway left behind.
	GatewayStarted struct {
		Gateway string `json:"gateway"`
	}
)

// Push kinds.
const (
	PushTweet = "tweet"
	PushLikes = "likes"
	PushGap   = "gap"
)

// ResumeRequest asks the feed service for User's retained pushes after
// Since (chirp.feed.resume).
type ResumeRequest struct {
	User  string `json:"user"`
	Since uint64 `json:"since"`
}

// PushRecord is one retained push, as the feed world returns it; the feed
// service encodes it to the same bytes as the live push.
type PushRecord struct {
	Kind    string
	Seq     uint64
	Tweet   *Tweet // Kind tweet
	TweetID string // Kind likes
	Likes   int    // Kind likes
}

// ResumeReply answers chirp.feed.resume: Seq is the account's newest push
// seq when the request was served, Gap says pushes after Since are no
// longer retained (the client should re-read its feed), and Pushes holds
// the retained push frames after Since, oldest first, exactly as they were
// sent live.
type ResumeReply struct {
	OK     bool              `json:"ok"`
	Seq    uint64            `json:"seq"`
	Gap    bool              `json:"gap,omitempty"`
	Pushes []json.RawMessage `json:"pushes"`
}
