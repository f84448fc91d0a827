package e2e

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"chirp/cmd/stack"
)

// startStack runs the whole of Chirp in-process: embedded NATS on a free
// loopback port, the three services and the gateway. It returns the URL of
// the web client.
func startStack(t *testing.T) string {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := stack.Start(context.Background(), stack.Config{
		HTTPAddr:   "127.0.0.1:0",
		NATSListen: "127.0.0.1:0",
		DataDir:    t.TempDir(),
		BcryptCost: 4,
		Log:        log,
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(st.Close)
	return "http://" + st.HTTPAddr + "/"
}
