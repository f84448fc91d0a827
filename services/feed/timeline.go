package feed

import (
	"sort"

	"chirp/contract"
)

// entry is one tweet, shared by every timeline that holds it, so a like
// count changes in one place.
type entry struct {
	t contract.Tweet
}

// older reports whether a sorts before b: by at, then by id as bytes.
// At strings share one fixed layout, so comparing them as strings compares
// times.
func older(a, b *entry) bool {
	if a.t.At != b.t.At {
		return a.t.At < b.t.At
	}
	return a.t.ID < b.t.ID
}

// timeline is a list of entries sorted oldest first, at most cap long.
// Appending the newest is the common case and costs no allocation once the
// slice has grown.
type timeline []*entry

// insert adds e in order and drops the oldest entry beyond max, returning
// it. added is false when e was already there or is older than everything a
// full list keeps.
func (tl *timeline) insert(e *entry, max int) (added bool, dropped *entry) {
	s := *tl
	i := len(s)
	for i > 0 && older(e, s[i-1]) {
		i--
	}
	if i > 0 && s[i-1] == e {
		return false, nil
	}
	if len(s) >= max && i == 0 {
		return false, nil
	}
	s = append(s, nil)
	copy(s[i+1:], s[i:])
	s[i] = e
	if len(s) > max {
		dropped = s[0]
		copy(s, s[1:])
		s[len(s)-1] = nil
		s = s[:len(s)-1]
	}
	*tl = s
	return true, dropped
}

// contains reports whether e is in the list.
func (tl timeline) contains(e *entry) bool {
	i := sort.Search(len(tl), func(i int) bool { return !older(tl[i], e) })
	return i < len(tl) && tl[i] == e
}

// merge returns the newest max entries of a and b together, without
// duplicates.
func merge(a, b timeline, max int) timeline {
	out := make(timeline, 0, min(len(a)+len(b), max))
	i, j := len(a)-1, len(b)-1
	rev := out[:0]
	for (i >= 0 || j >= 0) && len(rev) < max {
		var e *entry
		switch {
		case j < 0 || (i >= 0 && older(b[j], a[i])):
			e = a[i]
			i--
		case i < 0 || older(a[i], b[j]):
			e = b[j]
			j--
		default: // the same entry in both
			e = a[i]
			i--
			j--
		}
		rev = append(rev, e)
	}
	for l, r := 0, len(rev)-1; l < r; l, r = l+1, r-1 {
		rev[l], rev[r] = rev[r], rev[l]
	}
	return rev
}
