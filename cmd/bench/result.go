package bench

import (
	"context"
	"time"
)

// PhaseResult is what one phase of one system measured.
type PhaseResult struct {
	System, Phase string
	Rate          float64 // offered posts/s; 0 for a closed loop
	Window        int     // closed loop: posts in flight
	Offered       int64
	Accepted      int64
	PostsPerSec   float64 // accepted posts per second of offering
	Expected      int64   // deliveries the accepted posts should make
	Delivered     int64
	Stray         int64 // deliveries matching no offered post
	DeliveriesSec float64
	P50, P99      time.Duration
	P999, Max     time.Duration
	Errors        map[string]int
	// CPU is each process's CPU time during the phase (offer and settle).
	CPU map[string]time.Duration
	// ServerCPUPerDelivery is the CPU of the system's own processes (not
	// the load client) divided by the deliveries.
	ServerCPUPerDelivery time.Duration
}

// measure runs one phase: offers posts per o, waits for their deliveries
// to settle and reads every process's CPU before and after.
func measure(ctx context.Context, system, name string, p *phase, o Offer, settle time.Duration, procs []Proc, send sendFunc) PhaseResult {
	before := Samples(procs)
	p.run(ctx, o, send)
	offerSecs := time.Since(p.start).Seconds()
	p.settle(ctx, settle, 3*time.Second)
	after := Samples(procs)

	r := PhaseResult{
		System: system, Phase: name, Rate: o.Rate,
		Offered: p.offered.Load(), Accepted: p.accepted.Load(),
		Expected: p.expected.Load(), Delivered: p.delivered.Load(), Stray: p.stray.Load(),
		P50: p.hist.Quantile(0.5), P99: p.hist.Quantile(0.99), P999: p.hist.Quantile(0.999), Max: p.hist.Max(),
		Errors: p.errorCounts(), CPU: map[string]time.Duration{},
	}
	if o.Rate == 0 {
		r.Window = o.Window
	}
	if offerSecs > 0 {
		r.PostsPerSec = float64(r.Accepted) / offerSecs
	}
	if last := p.last.Load(); last > 0 && r.Delivered > 0 {
		if secs := time.Duration(last - p.start.UnixNano()).Seconds(); secs > 0 {
			r.DeliveriesSec = float64(r.Delivered) / secs
		}
	}
	var server time.Duration
	for _, pr := range procs {
		a, okA := after[pr.Name]
		b, okB := before[pr.Name]
		if !okA || !okB {
			continue
		}
		r.CPU[pr.Name] = a.CPU - b.CPU
		if pr.Server {
			server += a.CPU - b.CPU
		}
	}
	if r.Delivered > 0 {
		r.ServerCPUPerDelivery = server / time.Duration(r.Delivered)
	}
	return r
}

// ProcResult is one process's totals for a system's whole run.
type ProcResult struct {
	Name string
	CPU  time.Duration
	RSS  int64
}

// SystemResult is one system's run: its phases and memory.
type SystemResult struct {
	Name    string
	What    string // how it ran, one line
	Skipped string // why it did not run, when it did not
	Phases  []PhaseResult
	Procs   []ProcResult // at the end of the run, before stopping
	// Idle sockets: RSS of the process holding them before and after
	// SocketsOpen idle sockets were opened.
	SocketProc       string
	SocketsOpen      int
	RSSBefore        int64
	RSSWithSockets   int64
	SocketErrors     map[string]int // failed dials, auths, subscribes, sockets closed early
	PayloadBytes     int
	DeliveriesPerPst float64
}

// RSSPerSocket is the socket-holding process's RSS growth per idle socket.
func (s *SystemResult) RSSPerSocket() float64 {
	if s.SocketsOpen == 0 || s.RSSBefore == 0 {
		return 0
	}
	return float64(s.RSSWithSockets-s.RSSBefore) / float64(s.SocketsOpen)
}

// phase returns the named phase's result, or nil.
func (s *SystemResult) phase(name string) *PhaseResult {
	for i := range s.Phases {
		if s.Phases[i].Phase == name {
			return &s.Phases[i]
		}
	}
	return nil
}

func procTotals(procs []Proc) []ProcResult {
	samples := Samples(procs)
	var out []ProcResult
	for _, p := range procs {
		if s, ok := samples[p.Name]; ok {
			out = append(out, ProcResult{Name: p.Name, CPU: s.CPU, RSS: s.RSS})
		}
	}
	return out
}
