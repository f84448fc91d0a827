package gateway

import (
	"fmt"
	"testing"
)

// Frames as the benchmarks use them: a post request, the tweet service's
// reply to it, and a tweet push as the feed service encodes it.
var (
	benchPostFrame = []byte(`{"id":"c7-1234","op":"post","text":"hello, world: a tweet of an ordinary length, with some words in it"}`)
	benchPostReply = []byte(`{"ok":true,"tweet":{"id":"alice-00000042","author":"alice","text":"hello, world: a tweet of an ordinary length, with some words in it","at":"2026-12-03T21:50:01.123Z","likes":0}}`)
	benchPushFrame = []byte(`{"push":"tweet","seq":1234,"tweet":{"id":"alice-00000042","author":"alice","text":"hello, world: a tweet of an ordinary length, with some words in it","at":"2026-12-03T21:50:01.123Z","likes":0}}`)
)

// BenchmarkDecodeRequest: a client's post frame parsed and checked.
func BenchmarkDecodeRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPostFrame)))
	for b.Loop() {
		if _, err := decodeRequest(benchPostFrame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeReply: a service reply with the client's request id
// spliced in, and an error reply built by the gateway.
func BenchmarkEncodeReply(b *testing.B) {
	b.Run("service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if f := withRe("c7-1234", benchPostReply); len(f) == 0 {
				b.Fatal("empty reply")
			}
		}
	})
	b.Run("error", func(b *testing.B) {
		id := "c7-1234"
		e := badRequest(`missing "op" (a string)`)
		b.ReportAllocs()
		for b.Loop() {
			if f := errorFrame(&id, e); len(f) == 0 {
				b.Fatal("empty reply")
			}
		}
	})
}

// BenchmarkEncodePush: the push frames queued for one socket joined into
// the one frame written (a batch of 1 is the frame itself), and the seq
// read back from a push frame.
func BenchmarkEncodePush(b *testing.B) {
	for _, n := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			frames := make([][]byte, n)
			for i := range frames {
				frames[i] = benchPushFrame
			}
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = batch(buf[:0], frames)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
	b.Run("seq", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if pushSeq(benchPushFrame) != 1234 {
				b.Fatal("wrong seq")
			}
		}
	})
}
