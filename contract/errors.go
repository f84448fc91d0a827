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
	CodeInternal        = "internal"        // a bug or an infrastructure fault
)

// Error is the error object of a failed reply.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
