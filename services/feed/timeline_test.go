package feed

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"

	"chirp/contract"
)

// ent makes an entry at "at" (any string of the fixed layout sorts as a
// time; short ones do here too) with id.
func ent(at, id string) *entry { return &entry{t: contract.Tweet{ID: id, At: at}} }

// keys renders a timeline as "at/id" strings, oldest first.
func keys(tl timeline) []string {
	out := []string{}
	for _, e := range tl {
		out = append(out, e.t.At+"/"+e.t.ID)
	}
	return out
}

func wantKeys(t *testing.T, tl timeline, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := keys(tl); !reflect.DeepEqual(got, want) {
		t.Fatalf("timeline = %v, want %v", got, want)
	}
}

// insert inserts into a timeline through a window, as accounts do.
func (tl *timeline) insert(e *entry, max int) (added bool, dropped *entry) {
	w := window{back: *tl}
	added, dropped = w.insert(e, max)
	*tl = w.list()
	return added, dropped
}

// A window kept across many inserts (so it slides, moves its list to the
// front and grows) holds what a plain sorted list would.
func TestWindowMatchesSortedList(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, max := range []int{1, 3, 8, 100} {
		var w window
		var want timeline
		for i := 0; i < 5000; i++ {
			// Mostly the newest, sometimes older, sometimes a repeat.
			at := fmt.Sprintf("%06d", i)
			if rng.Intn(4) == 0 {
				at = fmt.Sprintf("%06d", rng.Intn(i+1))
			}
			e := ent(at, fmt.Sprint(i))
			if rng.Intn(10) == 0 && len(want) > 0 {
				e = want[rng.Intn(len(want))]
			}
			gotAdded, gotDropped := w.insert(e, max)
			wantAdded, wantDropped := want.insertNaive(e, max)
			if gotAdded != wantAdded || gotDropped != wantDropped {
				t.Fatalf("max %d, insert %d: got %v, %v; want %v, %v", max, i, gotAdded, gotDropped, wantAdded, wantDropped)
			}
			if !reflect.DeepEqual(keys(w.list()), keys(want)) {
				t.Fatalf("max %d, insert %d: window %v, want %v", max, i, keys(w.list()), keys(want))
			}
		}
		if c := cap(w.back); c > 2*max+16 {
			t.Errorf("max %d: window array of %d entries", max, c)
		}
	}
}

// insertNaive is the obvious sorted insert with a cap.
func (tl *timeline) insertNaive(e *entry, max int) (added bool, dropped *entry) {
	s := *tl
	i := len(s)
	for i > 0 && older(e, s[i-1]) {
		i--
	}
	if (i > 0 && s[i-1] == e) || (len(s) >= max && i == 0) {
		return false, nil
	}
	s = slices.Insert(slices.Clone(s), i, e)
	if len(s) > max {
		dropped, s = s[0], s[1:]
	}
	*tl = s
	return true, dropped
}

func TestOlderComparesAtThenIDBytes(t *testing.T) {
	for _, tc := range []struct {
		a, b *entry
		want bool
	}{
		{ent("2025-01-01T00:00:00.000Z", "z-1"), ent("2025-01-01T00:00:00.001Z", "a-1"), true},
		{ent("2025-01-01T00:00:00.001Z", "a-1"), ent("2025-01-01T00:00:00.000Z", "z-1"), false},
		{ent("2025-01-01T00:00:00.000Z", "a-1"), ent("2025-01-01T00:00:00.000Z", "b-1"), true},
		{ent("2025-01-01T00:00:00.000Z", "b-1"), ent("2025-01-01T00:00:00.000Z", "a-1"), false},
		// Byte order: '-' (0x2d) < digits (0x30-0x39) < '_' (0x5f) < 'a'.
		{ent("t", "a-00000001"), ent("t", "a0-00000001"), true},
		{ent("t", "a_-00000001"), ent("t", "aa-00000001"), true},
		{ent("t", "a9-00000001"), ent("t", "a_-00000001"), true},
		{ent("t", "al-00000009"), ent("t", "al-00000010"), true},
		{ent("t", "x-1"), ent("t", "x-1"), false},
	} {
		if got := older(tc.a, tc.b); got != tc.want {
			t.Errorf("older(%s/%s, %s/%s) = %v, want %v", tc.a.t.At, tc.a.t.ID, tc.b.t.At, tc.b.t.ID, got, tc.want)
		}
	}
}

func TestInsertKeepsOrderOldestFirst(t *testing.T) {
	var tl timeline
	for _, e := range []*entry{ent("3", "a"), ent("1", "a"), ent("2", "b"), ent("2", "a"), ent("4", "a"), ent("2", "c")} {
		if added, dropped := tl.insert(e, 10); !added || dropped != nil {
			t.Fatalf("insert %s/%s = %v, %v", e.t.At, e.t.ID, added, dropped)
		}
	}
	wantKeys(t, tl, "1/a", "2/a", "2/b", "2/c", "3/a", "4/a")
}

func TestInsertSameEntryTwiceIsNoop(t *testing.T) {
	var tl timeline
	a, b, c := ent("1", "a"), ent("2", "b"), ent("3", "c")
	for _, e := range []*entry{a, b, c} {
		tl.insert(e, 10)
	}
	for _, e := range []*entry{a, b, c} {
		if added, dropped := tl.insert(e, 10); added || dropped != nil {
			t.Fatalf("re-insert %s = %v, %v; want false, nil", e.t.ID, added, dropped)
		}
	}
	wantKeys(t, tl, "1/a", "2/b", "3/c")
}

func TestInsertDropsOldestBeyondMax(t *testing.T) {
	var tl timeline
	a, b, c := ent("1", "a"), ent("3", "c"), ent("5", "e")
	for _, e := range []*entry{a, b, c} {
		tl.insert(e, 3)
	}
	// Newest: the oldest goes.
	added, dropped := tl.insert(ent("6", "f"), 3)
	if !added || dropped != a {
		t.Fatalf("insert newest = %v, %v; want true, 1/a", added, dropped)
	}
	wantKeys(t, tl, "3/c", "5/e", "6/f")
	// In the middle: still the oldest goes.
	added, dropped = tl.insert(ent("4", "d"), 3)
	if !added || dropped != b {
		t.Fatalf("insert middle = %v, %v; want true, 3/c", added, dropped)
	}
	wantKeys(t, tl, "4/d", "5/e", "6/f")
	// Older than everything a full list keeps: refused, nothing dropped.
	added, dropped = tl.insert(ent("2", "b"), 3)
	if added || dropped != nil {
		t.Fatalf("insert oldest = %v, %v; want false, nil", added, dropped)
	}
	// Tie on at, smaller id: also older than everything.
	added, _ = tl.insert(ent("4", "c"), 3)
	if added {
		t.Fatal("insert 4/c into full [4/d ...] was accepted")
	}
	wantKeys(t, tl, "4/d", "5/e", "6/f")
}

func TestContainsFindsOnlyTheSameEntry(t *testing.T) {
	var tl timeline
	in := []*entry{ent("1", "a"), ent("2", "a"), ent("2", "b"), ent("3", "a")}
	for _, e := range in {
		tl.insert(e, 10)
	}
	for _, e := range in {
		if !tl.contains(e) {
			t.Errorf("contains(%s/%s) = false", e.t.At, e.t.ID)
		}
	}
	// Same position, different entry; and positions not held.
	for _, e := range []*entry{ent("2", "a"), ent("0", "a"), ent("2", "c"), ent("9", "z")} {
		if tl.contains(e) {
			t.Errorf("contains(new %s/%s) = true", e.t.At, e.t.ID)
		}
	}
	if (timeline{}).contains(ent("1", "a")) {
		t.Error("empty timeline contains an entry")
	}
}

func TestMergeKeepsNewestWithoutDuplicates(t *testing.T) {
	e := map[string]*entry{}
	for _, k := range []string{"1/a", "2/a", "2/b", "3/a", "4/a", "5/a", "5/b"} {
		at, id, _ := strings.Cut(k, "/")
		e[k] = ent(at, id)
	}
	tl := func(ks ...string) timeline {
		out := timeline{}
		for _, k := range ks {
			out = append(out, e[k])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		a, b timeline
		max  int
		want []string
	}{
		{"both empty", tl(), tl(), 5, nil},
		{"a empty", tl(), tl("1/a", "3/a"), 5, []string{"1/a", "3/a"}},
		{"b empty", tl("2/a", "4/a"), tl(), 5, []string{"2/a", "4/a"}},
		{"interleaved", tl("1/a", "2/b", "5/a"), tl("2/a", "3/a", "5/b"), 10, []string{"1/a", "2/a", "2/b", "3/a", "5/a", "5/b"}},
		{"capped keeps newest", tl("1/a", "2/b", "5/a"), tl("2/a", "3/a", "5/b"), 3, []string{"3/a", "5/a", "5/b"}},
		{"shared entries once", tl("1/a", "3/a", "4/a"), tl("3/a", "4/a", "5/a"), 10, []string{"1/a", "3/a", "4/a", "5/a"}},
		{"identical", tl("2/a", "2/b"), tl("2/a", "2/b"), 10, []string{"2/a", "2/b"}},
		{"cap 1", tl("1/a", "5/a"), tl("5/b"), 1, []string{"5/b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aBefore, bBefore := keys(tc.a), keys(tc.b)
			got := merge(tc.a, tc.b, tc.max)
			wantKeys(t, got, tc.want...)
			if !reflect.DeepEqual(keys(tc.a), aBefore) || !reflect.DeepEqual(keys(tc.b), bBefore) {
				t.Fatal("merge changed its inputs")
			}
		})
	}
}

// TestTimelineMatchesSortedModel inserts and merges random entries, with
// many ties on at, and compares with sorting everything and keeping the
// newest max.
func TestTimelineMatchesSortedModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cmp := func(a, b *entry) int {
		switch {
		case older(a, b):
			return -1
		case older(b, a):
			return 1
		}
		return 0
	}
	newest := func(all []*entry, max int) timeline {
		s := slices.Clone(all)
		slices.SortFunc(s, cmp)
		s = slices.CompactFunc(s, func(a, b *entry) bool { return a == b })
		if len(s) > max {
			s = s[len(s)-max:]
		}
		return timeline(s)
	}
	for round := 0; round < 200; round++ {
		max := 1 + rng.Intn(20)
		pool := make([]*entry, 40)
		for i := range pool {
			pool[i] = ent(string(rune('a'+rng.Intn(8))), string(rune('a'+i)))
		}
		var a, b timeline
		var inA, inB []*entry
		for i := 0; i < 60; i++ {
			e := pool[rng.Intn(len(pool))]
			if rng.Intn(2) == 0 {
				inA = append(inA, e)
				a.insert(e, max)
			} else {
				inB = append(inB, e)
				b.insert(e, max)
			}
			if !reflect.DeepEqual(keys(a), keys(newest(inA, max))) {
				t.Fatalf("round %d: insert gives %v, want %v", round, keys(a), keys(newest(inA, max)))
			}
		}
		want := newest(append(slices.Clone(inA), inB...), max)
		if got := merge(a, b, max); !reflect.DeepEqual(keys(got), keys(want)) {
			t.Fatalf("round %d: merge gives %v, want %v", round, keys(got), keys(want))
		}
	}
}
