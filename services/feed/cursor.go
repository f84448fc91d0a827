package feed

import (
	"encoding/base64"
	"strings"
)

// EncodeCursor makes the opaque "before" cursor for a feed position.
func EncodeCursor(at, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at + "|" + id))
}

// DecodeCursor reverses EncodeCursor; ok is false for anything else.
func DecodeCursor(c string) (at, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", false
	}
	at, id, ok = strings.Cut(string(b), "|")
	return at, id, ok && at != "" && id != ""
}
