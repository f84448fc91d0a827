package bench

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chirp/cmd/stack"
	"chirp/gateway"
	"chirp/natskit/natstest"
)

// TestBenchAgainstInProcessStack runs the harness for a few seconds
// against an in-process Chirp stack and an embedded NATS server, with few
// clients, and checks that pushes were delivered and timed. Centrifugo
// runs only when bin/centrifugo exists (make bench-tools builds it).
func TestBenchAgainstInProcessStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := stack.Start(ctx, stack.Config{
		HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(), BcryptCost: 4,
		Gateway: gateway.Config{ID: "gwbench"}, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(st.Close)
	ceiling := natstest.Server(t)

	cfg := DefaultConfig()
	cfg.Graph = filepath.Join("..", "..", "graphs", "twitter-follows-4k", "edges.txt")
	cfg.MaxAccounts, cfg.Sockets, cfg.Authors = 150, 60, 5
	cfg.Duration, cfg.Settle, cfg.Window = time.Second, 5*time.Second, 4
	cfg.ChirpURL, cfg.NATSURL = "ws://"+st.HTTPAddr+"/ws", ceiling.ClientURL()
	cfg.CentrifugoBin = filepath.Join("..", "..", "bin", "centrifugo")
	cfg.Systems = []string{SysChirp, SysNATS}
	if _, err := os.Stat(cfg.CentrifugoBin); err == nil {
		cfg.Systems = append(cfg.Systems, SysCentrifugo)
	} else {
		t.Logf("no %s: Centrifugo not measured", cfg.CentrifugoBin)
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(rep.Systems) != len(cfg.Systems) {
		t.Fatalf("%d systems reported, want %d", len(rep.Systems), len(cfg.Systems))
	}
	for _, s := range rep.Systems {
		if s.Skipped != "" {
			t.Errorf("%s skipped: %s", s.Name, s.Skipped)
			continue
		}
		if len(s.Phases) != 2 {
			t.Errorf("%s: %d phases, want 2", s.Name, len(s.Phases))
		}
		for _, ph := range s.Phases {
			if ph.Accepted == 0 || ph.Delivered == 0 || ph.DeliveriesSec <= 0 {
				t.Errorf("%s %s: accepted %d, delivered %d, %.0f/s: want all above 0", s.Name, ph.Phase, ph.Accepted, ph.Delivered, ph.DeliveriesSec)
			}
			if ph.Delivered > ph.Expected || ph.Stray != 0 {
				t.Errorf("%s %s: delivered %d of %d expected, %d stray", s.Name, ph.Phase, ph.Delivered, ph.Expected, ph.Stray)
			}
			if ph.P50 <= 0 || ph.P99 < ph.P50 || ph.Max < ph.P99 {
				t.Errorf("%s %s: latency p50 %v p99 %v max %v: want 0 < p50 <= p99 <= max", s.Name, ph.Phase, ph.P50, ph.P99, ph.Max)
			}
		}
	}
	if c := rep.system(SysChirp); c != nil && c.SocketsOpen != cfg.Sockets {
		t.Errorf("chirp: %d sockets open, want %d (errors %v)", c.SocketsOpen, cfg.Sockets, c.SocketErrors)
	}
	var b strings.Builder
	if err := rep.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| Chirp | max |") || !strings.Contains(b.String(), "raw NATS (ceiling)") {
		t.Errorf("report lacks the Chirp and NATS rows:\n%s", b.String())
	}
}
