package bench

import (
	"slices"
	"testing"

	"chirp/cmd/loadcheck"
)

func TestWorkloadRecipientsAreAuthorAndFollowersSockets(t *testing.T) {
	// 0 is followed by 1, 2 and 3; 1 by 2; 3 (offline with 3 sockets) follows 0.
	g := &loadcheck.Graph{N: 4, Edges: []loadcheck.Edge{{Followee: 0, Follower: 1}, {Followee: 0, Follower: 2}, {Followee: 0, Follower: 3}, {Followee: 1, Follower: 2}}}
	w, err := NewWorkload(g, 6, 2) // sockets 0..5 act as accounts 0,1,2,3,0,1
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Owner, []int{0, 1, 2, 3, 0, 1}) {
		t.Errorf("owners %v", w.Owner)
	}
	if !slices.Equal(w.Authors, []int{0, 1}) {
		t.Fatalf("authors %v, want [0 1] (most recipients first)", w.Authors)
	}
	if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(w.Recipients[0], want) {
		t.Errorf("recipients of 0: %v, want %v", w.Recipients[0], want)
	}
	if want := []int{1, 2, 5}; !slices.Equal(w.Recipients[1], want) {
		t.Errorf("recipients of 1: %v, want %v", w.Recipients[1], want)
	}
	if f := w.Fanout(); f != 4.5 {
		t.Errorf("fanout %v, want 4.5", f)
	}
	if w.Post(0) != 0 || w.Post(3) != 1 {
		t.Error("posts should take the authors in turn")
	}
	if _, err := NewWorkload(g, 0, 1); err == nil {
		t.Error("zero sockets: want an error")
	}
}
