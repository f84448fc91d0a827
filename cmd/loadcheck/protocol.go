package loadcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Tweet is a tweet as the WebSocket protocol v1 carries it.
type Tweet struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Text   string `json:"text"`
	At     string `json:"at"`
	Likes  int64  `json:"likes"`
}

// ErrorInfo is the "error" object of a failed reply.
type ErrorInfo struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	RetryAfterMs int64  `json:"retry_after_ms,omitempty"`
}

// ServerError is returned by Conn.Do when the server answered ok=false.
type ServerError struct {
	Op string
	ErrorInfo
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("%s: server error %s: %s", e.Op, e.Code, e.Message)
}

// Reply is one reply object: {"re":..., "ok":..., ...result}.
type Reply struct {
	Re     string
	OK     bool
	Error  *ErrorInfo
	Fields map[string]json.RawMessage // every top-level member, result fields included
}

// Decode unmarshals the result field name into v.
func (r Reply) Decode(name string, v any) error {
	if err := strictField(r.Fields, name, v); err != nil {
		return fmt.Errorf("reply %s: %w", r.Re, err)
	}
	return nil
}

// Has reports whether the reply carries the result field name.
func (r Reply) Has(name string) bool {
	_, ok := r.Fields[name]
	return ok
}

// Push is one unsolicited message: {"push":kind, "seq":n, ...}.
type Push struct {
	Kind     string
	Seq      int64
	Tweet    *Tweet // kind "tweet": the new tweet
	TweetID  string // kind "likes": the tweet whose count changed; kind "tweet": Tweet.ID
	Likes    int64  // kind "likes": the new count
	Fields   map[string]json.RawMessage
	Received time.Time
	Err      error // set when the push is malformed (missing or mistyped members)
}

// splitFrame returns the JSON objects in one text frame, accepting both a
// single object and an array of objects.
func splitFrame(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty frame")
	}
	if data[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, fmt.Errorf("array frame: %w", err)
		}
		return items, nil
	}
	return []json.RawMessage{data}, nil
}

// message is one decoded object from a frame: exactly one of reply or push is set.
type message struct {
	reply *Reply
	push  *Push
}

func decodeMessage(raw json.RawMessage, now time.Time) (message, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return message{}, fmt.Errorf("decode object: %w", err)
	}
	if fields == nil {
		return message{}, errors.New("frame item is null, not an object")
	}
	if _, ok := fields["re"]; ok {
		r := &Reply{Fields: fields}
		if err := strictField(fields, "re", &r.Re); err != nil {
			return message{}, fmt.Errorf("reply: \"re\" is not a string: %w", err)
		}
		if err := strictField(fields, "ok", &r.OK); err != nil {
			return message{}, fmt.Errorf("reply %s: \"ok\" missing or not a boolean", r.Re)
		}
		if !r.OK {
			var e ErrorInfo
			if err := strictField(fields, "error", &e); err != nil || e.Code == "" {
				e = ErrorInfo{Code: "malformed_error", Message: "reply had ok=false without a valid error object"}
			}
			r.Error = &e
		}
		return message{reply: r}, nil
	}
	if _, ok := fields["push"]; ok {
		p := &Push{Fields: fields, Received: now}
		if err := strictField(fields, "push", &p.Kind); err != nil {
			return message{}, fmt.Errorf("push: \"push\" is not a string: %w", err)
		}
		p.Err = p.decodeBody()
		return message{push: p}, nil
	}
	return message{}, errors.New("object has neither \"re\" nor \"push\"")
}

func (p *Push) decodeBody() error {
	if err := strictField(p.Fields, "seq", &p.Seq); err != nil {
		return fmt.Errorf("push %s: bad or missing seq", p.Kind)
	}
	switch p.Kind {
	case "tweet":
		var t Tweet
		if err := strictField(p.Fields, "tweet", &t); err != nil || t.ID == "" {
			return fmt.Errorf("push tweet seq %d: bad or missing tweet object", p.Seq)
		}
		p.Tweet, p.TweetID = &t, t.ID
	case "likes":
		if err := strictField(p.Fields, "tweet", &p.TweetID); err != nil || p.TweetID == "" {
			return fmt.Errorf("push likes seq %d: bad or missing tweet id", p.Seq)
		}
		if err := strictField(p.Fields, "likes", &p.Likes); err != nil {
			return fmt.Errorf("push likes seq %d: bad or missing likes", p.Seq)
		}
	case "gap":
		// After a resume from too old a seq: pushes up to seq are lost.
	default:
		return fmt.Errorf("push seq %d: unknown kind %q", p.Seq, p.Kind)
	}
	return nil
}

// strictField decodes fields[name] into v, failing when it is absent or null
// (json.Unmarshal silently accepts null for most targets).
func strictField(fields map[string]json.RawMessage, name string, v any) error {
	raw, ok := fields[name]
	if !ok {
		return fmt.Errorf("member %q missing", name)
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return fmt.Errorf("member %q is null", name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("member %q: %w", name, err)
	}
	return nil
}
