package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"chirp/contract"
	"chirp/natskit/natstest"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchGateway runs a gateway on a real embedded nats-server and a
// loopback HTTP listener for one benchmark. It returns the gateway, the
// ws:// address and a NATS connection to publish with.
func benchGateway(b *testing.B) (*Gateway, string, *nats.Conn) {
	b.Helper()
	s := natstest.Server(b)
	nc := natstest.Conn(b, s)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(nc, js, Config{ID: "gwbench", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return g, "ws://" + ln.Addr().String() + "/ws", natstest.Conn(b, s)
}

// dialAuthed opens a socket acting as handle (auth with a token the
// gateway signs) and waits for the auth reply.
func dialAuthed(d *websocket.Dialer, url, token string) (*websocket.Conn, error) {
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"id":"a","op":"auth","token":"`+token+`"}`)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send auth: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, reply, err := conn.ReadMessage()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read auth reply: %w", err)
	}
	if !bytes.Contains(reply, []byte(`"re":"a","ok":true`)) {
		conn.Close()
		return nil, fmt.Errorf("auth refused: %s", reply)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

var pushMark = []byte(`"push":`)

// BenchmarkPushEndToEnd: push messages published on NATS to the push
// subjects of A accounts (one socket each, round-robin), until every push
// has been read by its client: NATS to hub to writer to socket to client,
// all on loopback. At most window pushes are in flight, so no send queue
// overflows. ns/op is per push delivered; pushes/frame is how many pushes
// the gateway packed into each WebSocket frame on average.
func BenchmarkPushEndToEnd(b *testing.B) {
	for _, accounts := range []int{1, 100} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			g, url, pub := benchGateway(b)
			var delivered, frames atomic.Int64
			subjects := make([]string, accounts)
			for i := range accounts {
				h := fmt.Sprintf("reader_%d", i)
				subjects[i] = contract.PushSubject(h)
				conn, err := dialAuthed(websocket.DefaultDialer, url, g.tokens.mint(h, time.Now()))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { conn.Close() })
				go func() {
					for {
						_, f, err := conn.ReadMessage()
						if err != nil {
							return
						}
						frames.Add(1)
						delivered.Add(int64(bytes.Count(f, pushMark)))
					}
				}()
			}
			window := int64(min(256*accounts, 4096))
			seqs := make([]uint64, accounts)
			frame := make([]byte, 0, 256)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for int64(i)-delivered.Load() >= window {
					time.Sleep(20 * time.Microsecond)
				}
				a := i % accounts
				seqs[a]++
				frame = append(frame[:0], `{"push":"tweet","seq":`...)
				frame = strconv.AppendUint(frame, seqs[a], 10)
				frame = append(frame, `,"tweet":{"id":"bob-00000042","author":"bob","text":"hello, world: a tweet of an ordinary length, with some words in it","at":"2026-12-03T21:50:01.123Z","likes":0}}`...)
				if err := pub.Publish(subjects[a], frame); err != nil {
					b.Fatal(err)
				}
			}
			_ = pub.Flush()
			deadline := time.Now().Add(30 * time.Second)
			for delivered.Load() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d pushes delivered", delivered.Load(), b.N)
				}
				time.Sleep(50 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
			b.ReportMetric(float64(delivered.Load())/float64(frames.Load()), "pushes/frame")
		})
	}
}
