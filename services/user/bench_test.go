package user

import (
	"fmt"
	"testing"
)

// The password hash arrives inside the input (hashing happens outside the
// world); inputs are built with the timer stopped, so allocs/op counts the
// world's allocations.

// BenchmarkStepSignup: a new account with a free handle.
func BenchmarkStepSignup(b *testing.B) {
	w := New()
	ins := make([]Signup, 0, 1024)
	seq := uint64(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%cap(ins) == 0 {
			b.StopTimer()
			ins = ins[:0]
			for range cap(ins) {
				seq++
				in := signupIn(seq, fmt.Sprintf("user_%d", seq))
				in.Hash = "$2a$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
				ins = append(ins, in)
			}
			b.StartTimer()
		}
		effs := w.Step(ins[i%cap(ins)])
		if _, ok := effs[0].(Publish); !ok {
			b.Fatalf("signup rejected: %#v", effs)
		}
	}
}

// BenchmarkStepFollow: one account follows accounts it did not follow yet.
func BenchmarkStepFollow(b *testing.B) {
	const followees = 1 << 12
	w := New()
	w.Step(signupIn(1, "follower"))
	ins := make([]Follow, followees)
	for i := range ins {
		h := fmt.Sprintf("followee_%d", i)
		w.Step(signupIn(uint64(2+i), h))
		ins[i] = followIn(uint64(2+followees+i), "follower", h)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%followees == 0 {
			b.StopTimer()
			w.accounts["follower"].following = map[string]struct{}{} // follow again from zero
			b.StartTimer()
		}
		effs := w.Step(ins[i%followees])
		if _, ok := effs[0].(Publish); !ok {
			b.Fatalf("follow rejected: %#v", effs)
		}
	}
}
