package feed

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"chirp/contract"
)

// flatten turns effects into comparable lines, one per reply and one per
// push recipient, so effects split over partitions can be compared with a
// single world's.
func flatten(effs []Effect) []string {
	var out []string
	for _, e := range effs {
		switch e := e.(type) {
		case PushTweet:
			for i, k := range e.Keys {
				out = append(out, fmt.Sprintf("tweet %s %d %#v", k, e.Seqs[i], e.Tweet))
			}
		case PushLikes:
			for i, k := range e.Keys {
				out = append(out, fmt.Sprintf("likes %s %d %s %d", k, e.Seqs[i], e.Tweet, e.Likes))
			}
		case Replay:
			out = append(out, fmt.Sprintf("replay %s seq %d gap %v n %d", e.To, e.Seq, e.Gap, len(e.Pushes)))
			for _, p := range e.Pushes {
				var tw contract.Tweet
				if p.Tweet != nil {
					tw = *p.Tweet
				}
				out = append(out, fmt.Sprintf("replayed %s %s %d %#v %s %d", e.To, p.Kind, p.Seq, tw, p.TweetID, p.Likes))
			}
		default:
			out = append(out, fmt.Sprintf("%#v", e))
		}
	}
	return out
}

// Partitioned worlds that each see every input together do exactly what one
// world does: the same replies (each from exactly one partition), the same
// pushes with the same seqs, the same feeds and resumes.
func TestPartitionsTogetherBehaveLikeOneWorld(t *testing.T) {
	for _, parts := range []int{2, 3} {
		t.Run(fmt.Sprint(parts, " partitions"), func(t *testing.T) {
			const accounts = 30
			script := randomScript(11, accounts, 3000)
			for i := 0; i < accounts; i++ {
				h := fmt.Sprintf("User_%02d", i)
				script = append(script, Read{Reply: "read", User: h, Limit: 200}, Resume{Reply: "resume", User: strings.ToLower(h)})
			}
			one := New()
			ws := make([]*World, parts)
			for i := range ws {
				ws[i] = NewPartition(contract.Partition{Index: i, Count: parts})
			}
			replies := make([]int, parts)
			for n, in := range script {
				want := flatten(one.Step(in))
				var got []string
				for i, w := range ws {
					effs := w.Step(in)
					for _, e := range effs {
						if _, ok := e.(PushTweet); !ok {
							if _, ok := e.(PushLikes); !ok {
								replies[i]++
							}
						}
					}
					got = append(got, flatten(effs)...)
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					for i := 0; i < min(len(got), len(want)); i++ {
						if got[i] != want[i] {
							t.Fatalf("input %d %#v: %d vs %d lines; first difference:\n got  %s\n want %s", n, in, len(got), len(want), got[i], want[i])
						}
					}
					t.Fatalf("input %d %#v: %d lines, want %d", n, in, len(got), len(want))
				}
			}
			for i, n := range replies {
				if n == 0 {
					t.Fatalf("partition %d never answered: the keys are not spread", i)
				}
			}
		})
	}
}
