package loadcheck

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func push(seq int) string {
	return fmt.Sprintf(`{"push":"tweet","seq":%d,"tweet":{"id":"t%d","author":"ann","text":"x","at":"2026-12-04T06:00:00.000Z","likes":0}}`, seq, seq)
}

// runResumer runs a Resumer over urls until it holds want pushes or 5s
// pass, and returns it with the since of each auth the gateways saw.
func runResumer(t *testing.T, want int, gateways func(sinces chan any) []string) (*Resumer, []any) {
	t.Helper()
	sinces := make(chan any, 8)
	r := &Resumer{URLs: gateways(sinces), Handle: "ann", Token: "tok", Timeout: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.Pushes()) < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	close(sinces)
	var got []any
	for s := range sinces {
		got = append(got, s)
	}
	return r, got
}

// scriptGateway answers auth with the token "tok" as ann, then sends frames.
func scriptGateway(t *testing.T, sinces chan any, frames ...string) string {
	return scriptServer(t, func(req map[string]any) []string {
		id, _ := req["id"].(string)
		if req["op"] != "auth" || req["token"] != "tok" {
			return []string{"CLOSE"}
		}
		sinces <- req["since"]
		return append([]string{`{"re":"` + id + `","ok":true,"user":{"handle":"ann"}}`}, frames...)
	})
}

func seqsOf(ps []Push) string {
	var seqs []int64
	for _, p := range ps {
		seqs = append(seqs, p.Seq)
	}
	return fmt.Sprint(seqs)
}

// TestResumerResumesOnTheOtherGateway has the first gateway push seqs 1
// and 2 and hang up: the Resumer authenticates on the second with since 2
// and gets seq 3 there.
func TestResumerResumesOnTheOtherGateway(t *testing.T) {
	sinces := make(chan any, 4)
	gateway := func(frames ...string) string {
		return scriptServer(t, func(req map[string]any) []string {
			id, _ := req["id"].(string)
			if req["op"] != "auth" || req["token"] != "tok" {
				return []string{"CLOSE"}
			}
			sinces <- req["since"]
			return append([]string{`{"re":"` + id + `","ok":true,"user":{"handle":"ann"}}`}, frames...)
		})
	}
	gw1 := gateway(push(1), push(2), "CLOSE")
	gw2 := gateway(push(3))
	r := &Resumer{URLs: []string{gw1, gw2}, Handle: "ann", Token: "tok", Timeout: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.Pushes()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	var seqs []int64
	for _, p := range r.Pushes() {
		seqs = append(seqs, p.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3]" {
		t.Errorf("seqs %v, want [1 2 3]", seqs)
	}
	if first, second := <-sinces, <-sinces; first != nil || second != float64(2) {
		t.Errorf("auth since: first %v, second %v; want none, then 2", first, second)
	}
	st := r.Stats()
	if st.Connects != 2 || len(st.Resumes) != 1 || st.Resumes[0] != "since 2 on "+gw2 {
		t.Errorf("stats %+v, want 2 connects and one resume since 2 on gw2", st)
	}
}

// TestResumerRepairsASeqJump has the first gateway skip seq 2 on a live
// socket: the Resumer drops it, resumes on the second with since 1 and
// ends up with 1, 2, 3, the jump counted and nothing duplicated.
func TestResumerRepairsASeqJump(t *testing.T) {
	r, sinces := runResumer(t, 3, func(sinces chan any) []string {
		return []string{scriptGateway(t, sinces, push(1), push(3)), scriptGateway(t, sinces, push(2), push(3))}
	})
	if got := seqsOf(r.Pushes()); got != "[1 2 3]" {
		t.Errorf("seqs %s, want [1 2 3]", got)
	}
	if fmt.Sprint(sinces) != "[<nil> 1]" {
		t.Errorf("auth since %v, want none, then 1", sinces)
	}
	st := r.Stats()
	if fmt.Sprint(st.Gaps) != "[seq 3 after 1]" || len(st.Dups) != 0 {
		t.Errorf("gaps %q, dups %q; want one gap, no dups", st.Gaps, st.Dups)
	}
}

// TestResumerCountsARepeatedSeq: a push that repeats a seq is not kept.
func TestResumerCountsARepeatedSeq(t *testing.T) {
	r, _ := runResumer(t, 2, func(sinces chan any) []string {
		return []string{scriptGateway(t, sinces, push(1), push(1), push(2))}
	})
	if got := seqsOf(r.Pushes()); got != "[1 2]" {
		t.Errorf("seqs %s, want [1 2]", got)
	}
	if st := r.Stats(); len(st.Dups) != 1 || len(st.Gaps) != 0 {
		t.Errorf("dups %q, gaps %q; want one dup", st.Dups, st.Gaps)
	}
}
