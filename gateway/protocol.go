package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"chirp/contract"
)

// Close codes the gateway uses besides the standard ones (1000 normal,
// 1001 going away, 1003 binary frame, 1009 frame over 64 KiB).
const (
	// CloseSlowClient: the client did not read its pushes fast enough and
	// its send queue filled up. Reconnect and resume.
	CloseSlowClient = 4008
)

// MaxFrame is the largest frame a client may send.
const MaxFrame = 64 << 10

// MaxRequestID bounds the client's request id.
const MaxRequestID = 128

// request is a client frame. Pointer fields tell "absent" from "empty";
// a field of the wrong JSON type fails decoding with bad_request.
type request struct {
	ID       *string `json:"id"`
	Op       *string `json:"op"`
	Handle   *string `json:"handle"`
	Password *string `json:"password"`
	Token    *string `json:"token"`
	Text     *string `json:"text"`
	Tweet    *string `json:"tweet"`
	Limit    *int    `json:"limit"`
	Before   *string `json:"before"`
	Since    *uint64 `json:"since"`
}

// errNotJSON marks a frame that is not a JSON object at all: its reply has
// no "re".
var errNotJSON = errors.New("frame is not a JSON object")

// decodeRequest parses a frame. On a field error it still returns the id if
// the id itself was readable, so the error reply can carry "re".
func decodeRequest(frame []byte) (request, *contract.Error) {
	var r request
	trimmed := bytes.Trim(frame, " \t\r\n") // JSON whitespace only
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return r, badRequest(errNotJSON.Error())
	}
	err := json.Unmarshal(trimmed, &r)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &typeErr):
		if typeErr.Field == "id" {
			r.ID = nil
		}
		return r, badRequest("field " + strconv.Quote(typeErr.Field) + " has the wrong type")
	default:
		r.ID = nil
		return r, badRequest(errNotJSON.Error())
	}
	if r.ID == nil || *r.ID == "" {
		return r, badRequest(`missing "id" (a string)`)
	}
	if len(*r.ID) > MaxRequestID {
		r.ID = nil
		return r, badRequest(`"id" longer than 128 bytes`)
	}
	if r.Op == nil {
		return r, badRequest(`missing "op" (a string)`)
	}
	return r, nil
}

// pushSeq reads the seq of a push frame ({"push":"<kind>","seq":N,...}, as
// the feed service encodes it); 0 when there is none.
func pushSeq(frame []byte) uint64 {
	head := frame[:min(len(frame), 40)]
	i := bytes.Index(head, []byte(`"seq":`))
	if i < 0 {
		return 0
	}
	var n uint64
	for _, b := range frame[i+6:] {
		if b < '0' || b > '9' {
			break
		}
		n = n*10 + uint64(b-'0')
	}
	return n
}

// gapFrame tells a resuming client that pushes up to seq are no longer
// retained: it should re-read its feed.
func gapFrame(seq uint64) []byte {
	b := strconv.AppendUint([]byte(`{"push":"gap","seq":`), seq, 10)
	return append(b, '}')
}

func badRequest(msg string) *contract.Error {
	return &contract.Error{Code: contract.CodeBadRequest, Message: msg}
}

// errorFrame encodes an error reply; id nil gives a reply without "re".
func errorFrame(id *string, e *contract.Error) []byte {
	type frame struct {
		Re    *string         `json:"re,omitempty"`
		OK    bool            `json:"ok"`
		Error *contract.Error `json:"error"`
	}
	b, _ := json.Marshal(frame{Re: id, Error: e})
	return b
}

// withRe splices "re":id into a service reply object, so the reply is
// forwarded without being decoded.
func withRe(id string, reply []byte) []byte {
	reply = bytes.TrimSpace(reply)
	out := make([]byte, 0, len(reply)+len(id)+16)
	out = append(out, `{"re":`...)
	out = appendJSONString(out, id)
	if len(reply) > 2 && reply[0] == '{' {
		out = append(out, ',')
		out = append(out, reply[1:]...)
		return out
	}
	return append(out, `,"ok":false,"error":{"code":"internal","message":"malformed service reply"}}`...)
}

// appendJSONString appends s as a JSON string, the bytes json.Marshal
// gives; ids of plain printable ASCII (the usual ones) take no detour.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// batch joins frames into one: the frame itself, or a JSON array.
func batch(dst []byte, frames [][]byte) []byte {
	if len(frames) == 1 {
		return append(dst, frames[0]...)
	}
	dst = append(dst, '[')
	for i, f := range frames {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, f...)
	}
	return append(dst, ']')
}
