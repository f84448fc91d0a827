// Package natstest starts real embedded nats-servers for tests: loopback,
// a random port, JetStream in a temporary folder, shut down at cleanup.
package natstest

import (
	"context"
	"testing"

	"chirp/natskit"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server starts an embedded nats-server with JetStream and Chirp's streams.
func Server(t testing.TB) *server.Server {
	t.Helper()
	s, err := natskit.StartServer(natskit.ServerConfig{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	t.Cleanup(s.Shutdown)
	nc := Conn(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	if err := natskit.EnsureStreams(context.Background(), js, 1); err != nil {
		t.Fatalf("%v", err)
	}
	return s
}

// Conn connects to s and closes the connection at cleanup.
func Conn(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := natskit.Connect(s.ClientURL(), t.Name())
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}
