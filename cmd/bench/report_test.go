package bench

import (
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	cfg := DefaultConfig()
	cfg.Sockets, cfg.Duration, cfg.Window = 100, 5*time.Second, 8
	phases := func(sys string, dps, p99 float64) []PhaseResult {
		return []PhaseResult{
			{System: sys, Phase: PhaseMax, Window: 8, Accepted: 500, PostsPerSec: 100, Expected: 5000, Delivered: 5000,
				DeliveriesSec: dps, P50: time.Millisecond, P99: 2 * time.Millisecond, P999: 3 * time.Millisecond, Max: 4 * time.Millisecond,
				ServerCPUPerDelivery: 20 * time.Microsecond, Errors: map[string]int{}},
			{System: sys, Phase: PhaseFixed, Rate: 50, Accepted: 250, PostsPerSec: 50, Expected: 2500, Delivered: 2490,
				DeliveriesSec: 500, P50: 500 * time.Microsecond, P99: time.Duration(p99), P999: 2 * time.Duration(p99), Max: 3 * time.Duration(p99),
				Errors: map[string]int{"timeout": 2}},
		}
	}
	return &Report{
		Started: time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 4, 6, 2, 0, 0, time.UTC),
		Cores: 2, CPUModel: "Test CPU", LoadAvg: "1.00 2.00 3.00", GoVersion: "go1.26", Command: "chirp bench -sockets 100", Cfg: cfg,
		Accounts: 3726, Edges: 23939, Follows: 23939, Fanout: 10, Rate: 50,
		Systems: []SystemResult{
			{Name: SysChirp, What: "processes", Phases: phases(SysChirp, 20000, float64(4*time.Millisecond)),
				SocketProc: "chirp gateway", SocketsOpen: 100, RSSBefore: 10 << 20, RSSWithSockets: 10<<20 + 100*8192,
				Procs: []ProcResult{{Name: "chirp gateway", CPU: 1500 * time.Millisecond, RSS: 11 << 20}}},
			{Name: SysNATS, Phases: phases(SysNATS, 40000, float64(2*time.Millisecond))},
			{Name: SysCentrifugo, Skipped: "no Centrifugo binary at bin/centrifugo"},
		},
	}
}

func TestReportRatiosAndMarkdown(t *testing.T) {
	r := sampleReport()
	rs := r.Ratios()
	if len(rs) != 2 {
		t.Fatalf("ratios %+v: want 2 (Centrifugo skipped)", rs)
	}
	if v := rs[0].Value(); v != 0.5 {
		t.Errorf("deliveries/s ratio = %v, want 0.5", v)
	}
	if v := rs[1].Value(); v != 2 {
		t.Errorf("p99 ratio = %v, want 2", v)
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"2 cores, Test CPU; go1.26; load average 1.00 2.00 3.00 at the start",
		"`chirp bench -sockets 100`",
		"| Chirp | max | 8 in flight | 100 | 20000 | 5000 / 5000 | 1.0 ms | 2.0 ms | 3.0 ms | 4.0 ms | 20 us | none |",
		"| Chirp | fixed | 50/s | 50 | 500 | 2490 / 2500 | 500 us | 4.0 ms | 8.0 ms | 12.0 ms | - | timeout: 2 |",
		"| raw NATS (ceiling) | deliveries/s, closed loop | 20000 | 40000 | 0.50x |",
		"| raw NATS (ceiling) | p99 latency, fixed rate | 4.0 ms | 2.0 ms | 2.00x |",
		"| Centrifugo | skipped |",
		"no Centrifugo binary at bin/centrifugo",
		"| Chirp | chirp gateway | 100 | 10.0 MiB | 10.8 MiB | 8.0 KiB | none |",
		"| Chirp | processes | chirp gateway | 1.5 | 11.0 MiB |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestPostTextMarkerRoundTrip(t *testing.T) {
	for _, k := range []int{0, 7, 123456} {
		text := postText('c', k, 64)
		if len(text) != 64 {
			t.Errorf("postText length %d, want 64", len(text))
		}
		frame := pushPayload("rabc_12", text)
		tag, got, ok := parseMarker(frame)
		if !ok || tag != 'c' || got != k {
			t.Errorf("parseMarker(%s) = %c %d %v, want c %d true", frame, tag, got, ok, k)
		}
	}
	for _, bad := range []string{"", "bench:", "bench:a", "bench:a12", "bench:ax:", "no marker here"} {
		if _, _, ok := parseMarker([]byte(bad)); ok {
			t.Errorf("parseMarker(%q) ok, want not", bad)
		}
	}
}
