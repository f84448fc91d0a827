package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"chirp/contract"
)

// FuzzDecodeRequest feeds arbitrary client frames through decoding and the
// checks that follow it, and the replies built from the outcome. Its seed
// corpus is in testdata/fuzz/FuzzDecodeRequest, so plain `go test` replays
// it; `go test -fuzz=FuzzDecodeRequest` explores further.
//
// Invariants:
//   - nothing panics;
//   - every reply the gateway could build is one JSON object, or an array
//     of them when batched, and carries "re" exactly when the id was usable;
//   - a decoded request has a non-empty id of at most MaxRequestID bytes
//     and an op, and came from a JSON object;
//   - a JSON object with a single usable "id" member is answered with that
//     id as "re", whatever else is wrong with it.
func FuzzDecodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, frame []byte) {
		r, perr := decodeRequest(frame)

		if perr != nil {
			if perr.Code != contract.CodeBadRequest || perr.Message == "" {
				t.Fatalf("decode error %+v: want bad_request with a message", perr)
			}
			checkReply(t, errorFrame(r.ID, perr), r.ID)
		} else {
			if r.ID == nil || *r.ID == "" || len(*r.ID) > MaxRequestID {
				t.Fatalf("decoded a request with id %v", r.ID)
			}
			if r.Op == nil {
				t.Fatal("decoded a request without an op")
			}
			if !json.Valid(frame) {
				t.Fatalf("accepted a frame that is not JSON: %q", frame)
			}
			validate(r)
		}

		if id, ok := soleID(frame); ok && (r.ID == nil || *r.ID != id) {
			t.Fatalf("frame with the usable id %q answered with re %v (error %v)", id, r.ID, perr)
		}
		if r.ID != nil {
			// Whatever the id, a spliced service reply stays JSON.
			checkReply(t, withRe(*r.ID, []byte(`{"ok":true,"likes":1}`)), r.ID)
			b := batch(nil, [][]byte{errorFrame(r.ID, badRequest("x")), withRe(*r.ID, []byte(`{"ok":true}`))})
			var items []map[string]json.RawMessage
			if err := json.Unmarshal(b, &items); err != nil || len(items) != 2 {
				t.Fatalf("batch %q: %d items, %v", b, len(items), err)
			}
		}
	})
}

// checkReply requires a single reply object with "ok" and with "re" equal
// to id, or no "re" when id is nil.
func checkReply(t *testing.T, b []byte, id *string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("reply %q is not a JSON object: %v", b, err)
	}
	if _, ok := m["ok"]; !ok {
		t.Fatalf("reply %q has no ok", b)
	}
	raw, has := m["re"]
	switch {
	case id == nil && has:
		t.Fatalf("reply %q has re, want none", b)
	case id != nil:
		var re string
		if err := json.Unmarshal(raw, &re); err != nil || re != *id {
			t.Fatalf("reply %q: re is not %q", b, *id)
		}
	}
}

// validate runs the checks the gateway and the services apply to a decoded
// request's fields; they must not panic on any input.
func validate(r request) {
	if r.Handle != nil {
		_ = contract.ValidHandle(*r.Handle)
		_ = contract.Key(*r.Handle)
	}
	if r.Password != nil {
		_ = contract.ValidPassword(*r.Password)
	}
	if r.Text != nil && contract.ValidText(*r.Text) && !utf8.ValidString(*r.Text) {
		panic("ValidText accepted invalid UTF-8")
	}
	if r.Tweet != nil {
		_, _ = contract.TweetAuthorKey(*r.Tweet)
	}
	if r.Token != nil {
		_, _ = testTokens().verify(*r.Token, tokenNow)
	}
}

// soleID returns the id of a frame that is one JSON object with exactly one
// member named "id" (ignoring case, as decoding does), holding a string of
// 1 to MaxRequestID bytes.
func soleID(frame []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(frame))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	var id string
	found := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", false
		}
		if strings.EqualFold(key, "id") {
			found++
			if json.Unmarshal(v, &id) != nil {
				return "", false
			}
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return "", false
	}
	if _, err := dec.Token(); err == nil || !json.Valid(frame) {
		return "", false // trailing data, or not JSON at all
	}
	return id, found == 1 && id != "" && len(id) <= MaxRequestID
}
