package loop

import (
	"fmt"
	"testing"
	"time"

	"chirp/natskit/natstest"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sample reads one series from reg: a counter's or gauge's value, or a
// histogram's sample count. ok is false when the series is absent.
func sample(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (v float64, ok bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, want := range labels {
				if have[k] != want {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// waitSample waits until the series has value want.
func waitSample(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := sample(t, reg, name, labels)
		if ok && v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v (present %v), want %v", name, labels, v, ok, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMetricsCountStepsDeadLettersLagAndSnapshotAge(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	reg := prometheus.NewRegistry()
	r := startLoopOps(t, s, &sumWorld{}, 2, Ops{Metrics: reg})

	add(t, js, `{"n":1}`)
	add(t, js, `{"n":`)
	add(t, js, `{"n":3}`)
	waitSums(t, js, 2)
	world := map[string]string{"service": "test", "partition": "0"}
	waitSample(t, reg, "chirp_world_inputs_stepped_total", map[string]string{"service": "test", "kind": "input"}, 3)
	if v, _ := sample(t, reg, "chirp_world_step_seconds", map[string]string{"service": "test", "kind": "input"}); v != 3 {
		t.Errorf("step latency histogram holds %v steps of live inputs, want 3", v)
	}
	if v, _ := sample(t, reg, "chirp_world_inputs_stepped_total", map[string]string{"kind": "replay"}); v != 0 {
		t.Errorf("replayed inputs = %v on a first start, want 0", v)
	}
	if v, ok := sample(t, reg, "chirp_world_dead_lettered_total", world); !ok || v != 1 {
		t.Errorf("dead-lettered = %v (present %v), want 1", v, ok)
	}
	// Every input delivered and acknowledged: nothing pending.
	waitSample(t, reg, "chirp_consumer_num_ack_pending", map[string]string{"stream": "CHIRP", "consumer": "test"}, 0)
	if v, ok := sample(t, reg, "chirp_consumer_num_pending", map[string]string{"stream": "CHIRP", "consumer": "test"}); !ok || v != 0 {
		t.Errorf("consumer num_pending = %v (present %v), want 0", v, ok)
	}
	// A snapshot every 2 inputs: one is stored, and it is fresh.
	waitSnapshot(t, js, 2)
	deadline := time.Now().Add(5 * time.Second)
	for {
		age, ok := sample(t, reg, "chirp_snapshot_age_seconds", world)
		if ok {
			if age < 0 || age > 30 {
				t.Errorf("snapshot age %v s, want a fresh one", age)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no snapshot age after a snapshot was stored")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop(t)
	if _, ok := sample(t, reg, "chirp_world_step_seconds", nil); ok {
		t.Error("a stopped loop's metrics are still registered")
	}
}

func TestCaughtUpComesAfterTheBacklogIsStepped(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	r := startLoop(t, s, &sumWorld{}, -1)
	add(t, js, `{"n":1}`)
	waitSums(t, js, 1)
	r.stop(t)

	// Inputs stored while the world is down are its backlog at start.
	const backlog = 300
	for i := range backlog {
		add(t, js, fmt.Sprintf(`{"n":%d}`, i))
	}
	reg := prometheus.NewRegistry()
	caughtUp := make(chan int, 1)
	w := &sumWorld{}
	r = startLoopOps(t, s, w, -1, Ops{Metrics: reg, CaughtUp: func() { caughtUp <- len(w.seen) }})
	select {
	case n := <-caughtUp:
		// Replay covers the input before the stop; the backlog comes live.
		if n != 1+backlog {
			t.Errorf("caught up after %d inputs, want %d", n, 1+backlog)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the world never caught up")
	}
	if v, _ := sample(t, reg, "chirp_world_inputs_stepped_total", map[string]string{"kind": "replay"}); v != 1 {
		t.Errorf("replayed inputs = %v, want 1", v)
	}
	r.stop(t)
}

func TestCaughtUpAtOnceOnAnEmptyStream(t *testing.T) {
	s := natstest.Server(t)
	caughtUp := make(chan struct{})
	r := startLoopOps(t, s, &sumWorld{}, -1, Ops{CaughtUp: func() { close(caughtUp) }})
	select {
	case <-caughtUp:
	case <-time.After(5 * time.Second):
		t.Fatal("a world with nothing to step is not caught up")
	}
	r.stop(t)
}
