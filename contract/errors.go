package contract

// Error codes, shared by service replies and WebSocket error replies.
const (
	CodeBadRequest      = "bad_request"     // not JSON, missing or wrong-typed fields
	CodeUnknownOp       = "unknown_op"      // op not in the protocol
	CodeUnauthenticated = "unauthenticated" // no account on the connection, bad credentials or token
	CodeInvalid         = "invalid"         // fails a validation rule, following yourself
	CodeNotFound        = "not_found"       // no such account or tweet
	CodeConflict        = "conflict"        // handle taken
	CodeUnavailable     = "unavailable"     // a service did not answer in time
	CodeRateLimited     = "rate_limited"    // over a limit; retry_after_ms says when to try again
	CodeInternal        = "internal"        // a bug or an infrastructure fault
)

// Error is the error object of a failed reply.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfterMS, set with rate_limited, is how many milliseconds to
	// wait before the same request can succeed.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
