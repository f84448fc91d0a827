package gateway

import (
	"hash/fnv"
	"strconv"

	"chirp/contract"
)

// Request identity. A client that lost a reply retries with the same
// request id, on any connection of the same account; the gateway derives
// the same Nats-Msg-Id each time, so the request is applied once.
//
// A write's identity is its account, op, request id and a hash of its
// fields: reusing an id for a different request makes a new request, not
// a silently dropped one. A signup's identity leaves the fields out, so no
// function of the password is ever stored.

// writeMsgID is the Nats-Msg-Id of a post, follow or like by account.
func writeMsgID(account, op, id string, body []byte) string {
	h := fnv.New64a()
	h.Write(body)
	return contract.Key(account) + ":" + op + ":" + headerSafe(id) + ":" + strconv.FormatUint(h.Sum64(), 36)
}

// signupMsgID is the Nats-Msg-Id of a signup for handle.
func signupMsgID(handle, id string) string {
	return "signup:" + contract.Key(handle) + ":" + headerSafe(id)
}

// headerSafe quotes a client string so that it is printable ASCII and
// cannot break a NATS header line.
func headerSafe(s string) string { return strconv.QuoteToASCII(s) }
