package tweet

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"chirp/contract"
)

// Partitioned worlds that each see every input answer exactly as one
// world does: a post from its author's partition, a like (also of a tweet
// by an account owned elsewhere than the liker) from the tweet author's.
func TestPartitionsTogetherBehaveLikeOneWorld(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	var script []Input
	var ids []string
	posted := map[string]uint64{}
	for i := 0; i < 30; i++ {
		script = append(script, created(uint64(i+1), fmt.Sprintf("U%d", i)))
	}
	for i := uint64(100); i < 2000; i++ {
		a := fmt.Sprintf("u%d", rng.Intn(32)) // two never signed up
		switch {
		case rng.Intn(2) == 0 || len(ids) == 0:
			p := postIn(i, a, fmt.Sprint("t", i))
			if rng.Intn(10) == 0 {
				p.Request = fmt.Sprint("r", rng.Intn(20))
			}
			script = append(script, p)
			if rng.Intn(10) > 0 && a != "u30" && a != "u31" {
				posted[a]++
				ids = append(ids, contract.TweetID(a, posted[a]))
			}
		case rng.Intn(20) == 0:
			script = append(script, likeIn(i, a, "garbage"))
		default:
			script = append(script, likeIn(i, a, ids[rng.Intn(len(ids))]))
		}
	}
	one := New()
	const parts = 3
	ws := make([]*World, parts)
	for i := range ws {
		ws[i] = NewPartition(contract.Partition{Index: i, Count: parts})
	}
	answered := make([]int, parts)
	for n, in := range script {
		var want, got []string
		for _, e := range one.Step(in) {
			want = append(want, render(e))
		}
		for i, w := range ws {
			for _, e := range w.Step(in) {
				answered[i]++
				got = append(got, render(e))
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("input %d %#v:\n got  %v\n want %v", n, in, got, want)
		}
	}
	for i, n := range answered {
		if n == 0 {
			t.Fatalf("partition %d never answered", i)
		}
	}
}

// render prints an effect with pointers followed.
func render(e Effect) string {
	b, _ := json.Marshal(e)
	return fmt.Sprintf("%T %s", e, b)
}
