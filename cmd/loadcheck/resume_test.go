package loadcheck

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestResumerResumesOnTheOtherGateway has the first gateway push seqs 1
// and 2 and hang up: the Resumer authenticates on the second with since 2
// and gets seq 3 there.
func TestResumerResumesOnTheOtherGateway(t *testing.T) {
	push := func(seq int) string {
		return fmt.Sprintf(`{"push":"tweet","seq":%d,"tweet":{"id":"t%d","author":"ann","text":"x","at":"2026-12-04T06:00:00.000Z","likes":0}}`, seq, seq)
	}
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
