package contract

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the product rules.
const (
	MaxHandle      = 30
	MinPassword    = 8
	MaxPassword    = 72 // bcrypt's input limit
	MaxText        = 280
	FeedCap        = 800
	FeedDefaultLim = 50
	FeedMaxLimit   = 200
)

// TimeLayout is the format of Tweet.At and event times.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime renders t in UTC with milliseconds.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ValidHandle reports whether h is 1-30 characters of [A-Za-z0-9_].
func ValidHandle(h string) bool {
	if len(h) == 0 || len(h) > MaxHandle {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidPassword reports whether p is 8-72 bytes.
func ValidPassword(p string) bool { return len(p) >= MinPassword && len(p) <= MaxPassword }

// ValidText reports whether t is valid UTF-8 of 1-280 code points.
func ValidText(t string) bool {
	if !utf8.ValidString(t) {
		return false
	}
	n := utf8.RuneCountInString(t)
	return n >= 1 && n <= MaxText
}

// TweetID builds a tweet id from the author's key and the author's tweet
// number. The number is zero-padded so ids of one author sort by age.
func TweetID(authorKey string, n uint64) string {
	const width = 8
	var buf [20]byte
	i := len(buf)
	for n > 0 || len(buf)-i < width {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return authorKey + "-" + string(buf[i:])
}

// TweetAuthorKey returns the author key a tweet id was built from, so a like
// can be routed to the partition owning the tweet. ok is false for an id
// that cannot be a tweet id.
func TweetAuthorKey(id string) (key string, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || i == len(id)-1 {
		return "", false
	}
	key = id[:i]
	if !ValidHandle(key) || key != strings.ToLower(key) {
		return "", false
	}
	for _, c := range id[i+1:] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return key, true
}
