package contract

import "strings"

// StreamName is the JetStream stream that stores every command and event.
// One stream gives all services one total order, so an event published and
// acknowledged before a reply is always read before any command the client
// sends after that reply.
const StreamName = "CHIRP"

// StreamSubjects are the subjects the CHIRP stream captures.
var StreamSubjects = []string{"chirp.cmd.>", "chirp.evt.>"}

// Request endpoints (core NATS request/reply). A reply is a Reply object.
const (
	SubjSignup = "chirp.user.signup"
	SubjLogin  = "chirp.user.login"
	SubjFollow = "chirp.user.follow"
	SubjPost   = "chirp.tweet.post"
	SubjLike   = "chirp.tweet.like"
	SubjFeed   = "chirp.feed.read"
	SubjResume = "chirp.feed.resume"
)

// Command subject prefixes; the key token (lower-cased handle) follows.
const (
	CmdSignup = "chirp.cmd.user.signup"
	CmdFollow = "chirp.cmd.user.follow"
	CmdPost   = "chirp.cmd.tweet.post"
	CmdLike   = "chirp.cmd.tweet.like"
)

// Event subject prefixes; the key token (lower-cased handle, or gateway id
// for GatewayStarted) follows.
const (
	EvtUserCreated    = "chirp.evt.user.created"
	EvtUserFollowed   = "chirp.evt.user.followed"
	EvtTweetPosted    = "chirp.evt.tweet.posted"
	EvtTweetLiked     = "chirp.evt.tweet.liked"
	EvtPresence       = "chirp.evt.gateway.presence"
	EvtGatewayStarted = "chirp.evt.gateway.started"
)

// PushPrefix is followed by the lower-cased handle of the receiving account.
const PushPrefix = "chirp.push"

// Headers carried by commands and events.
const (
	// HeaderReply names the subject the final reply to a command goes to.
	// It travels from command to derived event, so the service that
	// completes a write (for a post: the feed service) answers the client.
	HeaderReply = "Chirp-Reply"
	// HeaderMsgID is JetStream's de-duplication header. On a command it is
	// the request's identity, set by the gateway from the account, op,
	// client request id and (except for signup) a hash of the fields, so a
	// retried request is stored once. On an event it is derived from the
	// service, the input's sequence and the event's index, so replaying an
	// input re-publishes identical ids.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderRequest carries a command's request identity to the world. It
	// equals the first Nats-Msg-Id; when a retry arrives after JetStream's
	// duplicate window dropped its copy, the command is stored again under
	// a fresh Nats-Msg-Id with the same Chirp-Request, and the world
	// answers it with the original outcome instead of applying it twice.
	HeaderRequest = "Chirp-Request"
	// HeaderAfter on a query (a read endpoint) holds a CHIRP stream
	// sequence: the service answers only once its world has applied that
	// input, so the answer reflects it (the gateway sends the sequence of
	// a presence event with a resume).
	HeaderAfter = "Chirp-After"
)

// Key returns the subject token for a handle: the handle lower-cased.
func Key(handle string) string { return strings.ToLower(handle) }

// Subject joins a prefix and a key token.
func Subject(prefix, key string) string { return prefix + "." + key }

// PushSubject is the subject live pushes for handle are published on.
func PushSubject(handle string) string { return Subject(PushPrefix, Key(handle)) }

// LastToken returns the last dot-separated token of a subject.
func LastToken(subject string) string {
	if i := strings.LastIndexByte(subject, '.'); i >= 0 {
		return subject[i+1:]
	}
	return subject
}
