package gateway

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
)

// BenchmarkHubDispatch is the gateway's push path without the network: a
// push message handed to the hub goes into the send queue of each socket of
// its account, and each socket's writer turns what it takes from its queue
// into the one frame it would write. pushes is how many pushes a writer
// finds queued at once (it joins up to 64 into one frame).
func BenchmarkHubDispatch(b *testing.B) {
	for _, c := range []struct{ sockets, pushes int }{{1, 1}, {1, 64}, {4, 1}, {4, 64}} {
		b.Run(fmt.Sprintf("sockets=%d/pushes=%d", c.sockets, c.pushes), func(b *testing.B) {
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			g := &Gateway{cfg: Config{SendQueue: 1024, Log: log}}
			g.cfg.defaults()
			h := newHub(nil, nil, "gw", log)
			ac := &accountConns{}
			h.accounts["alice"] = ac
			var clients []*client
			for i := range c.sockets {
				// writing: the benchmark plays the writer, taking the
				// queue as it does, minus the socket write.
				cl := &client{id: uint64(i + 1), g: g, done: make(chan struct{}), writing: true}
				ac.clients = append(ac.clients, cl)
				clients = append(clients, cl)
			}
			msgs := make([]*nats.Msg, c.pushes)
			for i := range msgs {
				msgs[i] = &nats.Msg{Subject: "chirp.push.alice", Data: []byte(fmt.Sprintf(`{"push":"tweet","seq":%d,"tweet":{"id":"bob-00000042","author":"bob","text":"hello, world: a tweet of an ordinary length, with some words in it","at":"2026-12-03T21:50:01.123Z","likes":0}}`, i+1))}
			}
			frames := make([][]byte, 0, 64)
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				for _, m := range msgs {
					h.push(m)
				}
				for _, cl := range clients {
					cl.lastSeq = 0 // the same seqs again
					frames = frames[:0]
					q, _, _, _ := cl.takeQueue()
					for _, it := range *q {
						frames = cl.take(it, frames)
					}
					buf = batch(buf[:0], frames)
					returnQueue(q)
					cl.writing = true // takeQueue ends the writer once it finds nothing; here it never does
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.pushes*c.sockets), "ns/delivery")
		})
	}
}
