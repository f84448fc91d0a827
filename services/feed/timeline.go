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
// Accounts keep theirs in a window (below), where appending the newest is
// the common case and costs no allocation and no copying once grown.
type timeline []*entry

// window holds a timeline inside a larger array, list() = back[lo:], so
// that dropping the oldest entry of a full list slides the window instead
// of moving every entry: a post to a full feed then costs no copying and no
// allocation. When the array is used up, the list moves back to its front
// (once every quarter-list inserts at least) or, while the list is still
// growing, to a bigger array.
type window struct {
	back []*entry
	lo   int
}

// list returns the entries, oldest first; valid until the next insert.
func (w *window) list() timeline { return w.back[w.lo:] }

// insert adds e in order and drops the oldest entry beyond max, returning
// it. added is false when e was already there or is older than everything a
// full list keeps.
func (w *window) insert(e *entry, max int) (added bool, dropped *entry) {
	s := w.list()
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
	if len(s) >= max {
		// Full: the oldest goes first, and e lands one place earlier.
		dropped = s[0]
		w.back[w.lo] = nil
		w.lo++
		i--
	}
	w.room()
	w.back = append(w.back, nil)
	s = w.list()
	copy(s[i+1:], s[i:])
	s[i] = e
	return true, dropped
}

// room makes space for one more entry at the end of back.
func (w *window) room() {
	if len(w.back) < cap(w.back) {
		return
	}
	live := len(w.back) - w.lo
	if w.lo > 0 && w.lo >= live/4 {
		copy(w.back, w.back[w.lo:])
		clear(w.back[live:])
		w.back, w.lo = w.back[:live], 0
		return
	}
	grow := live / 4
	if live < 256 {
		grow = live
	}
	nb := make([]*entry, live, live+grow+8)
	copy(nb, w.back[w.lo:])
	w.back, w.lo = nb, 0
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
