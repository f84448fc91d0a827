package user

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"chirp/contract"
)

// Partitioned worlds that each see every command, and every UserCreated
// event as a Known input, answer exactly as one world does, each request
// from exactly one partition.
func TestPartitionsTogetherBehaveLikeOneWorld(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	handle := func() string { return fmt.Sprintf("U%d", rng.Intn(40)) }
	var script []Input
	for i := uint64(1); i <= 1500; i++ {
		switch rng.Intn(4) {
		case 0:
			script = append(script, signupIn(i, handle()))
		case 1:
			script = append(script, Login{Reply: fmt.Sprint("l", i), Handle: handle(), Password: "pw"})
		default:
			script = append(script, followIn(i, handle(), handle()))
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
		want := flat(one.Step(in))
		var got []string
		var created []string
		for i, w := range ws {
			effs := w.Step(in)
			answered[i] += len(effs)
			for _, e := range effs {
				if p, ok := e.(Publish); ok {
					if uc, ok := p.Event.(contract.UserCreated); ok {
						created = append(created, uc.Handle)
					}
				}
			}
			got = append(got, flat(effs)...)
		}
		for _, h := range created {
			for _, w := range ws {
				w.Step(Known{Handle: h})
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

func flat(effs []Effect) []string {
	out := make([]string, len(effs))
	for i, e := range effs {
		out[i] = render(e)
	}
	return out
}

// render prints an effect with pointers followed.
func render(e Effect) string {
	b, _ := json.Marshal(e)
	return fmt.Sprintf("%T %s", e, b)
}
