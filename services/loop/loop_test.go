package loop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"chirp/natskit"
	"chirp/natskit/natstest"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// The loop is tested with a small world of its own: a running sum of the
// numbers in chirp.cmd.test.add.* inputs. Each input emits one event
// chirp.evt.test.sum.<n> carrying the sum after it, so the stream shows
// exactly which effects were performed, and how often.

const (
	addSubject = "chirp.cmd.test.add"
	sumSubject = "chirp.evt.test.sum"
)

// sumWorld is the handler under test. It records what it was fed, so a test
// can tell a restored snapshot plus a tail from a full replay.
type sumWorld struct {
	sum      int
	seen     []uint64 // stream sequences stepped, replay included
	restored bool
}

func (w *sumWorld) Handle(m *Msg, out *Out) error {
	var in struct {
		N *int `json:"n"`
	}
	if err := json.Unmarshal(m.Data, &in); err != nil || in.N == nil {
		return fmt.Errorf("decode add: not {\"n\":<int>}")
	}
	w.sum += *in.N
	w.seen = append(w.seen, m.Seq)
	return out.Event(sumSubject+"."+strconv.FormatUint(m.Seq, 10), map[string]int{"sum": w.sum}, "")
}

func (w *sumWorld) Snapshot() ([]byte, error) { return json.Marshal(map[string]int{"sum": w.sum}) }

func (w *sumWorld) Restore(b []byte) error {
	var s struct {
		Sum *int `json:"sum"`
	}
	if err := json.Unmarshal(b, &s); err != nil || s.Sum == nil {
		return errors.New("restore sum: not a sum snapshot")
	}
	w.sum, w.restored = *s.Sum, true
	return nil
}

// running is a loop started in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func (r running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("loop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loop did not stop")
	}
}

func startLoop(t *testing.T, s *server.Server, w *sumWorld, snapshotEvery int) running {
	t.Helper()
	return startLoopOps(t, s, w, snapshotEvery, Ops{})
}

// startLoopOps is startLoop with the loop's metrics and readiness wired to
// ops.
func startLoopOps(t *testing.T, s *server.Server, w *sumWorld, snapshotEvery int, ops Ops) running {
	t.Helper()
	nc := natstest.Conn(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	l := New(nc, js, Config{
		Name: "test", Filters: []string{addSubject + ".>"}, SnapshotEvery: snapshotEvery, Ops: ops,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, w)
	ctx, cancel := context.WithCancel(context.Background())
	r := running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- l.Run(ctx) }()
	t.Cleanup(cancel)
	select {
	case <-l.Ready():
	case err := <-r.done:
		t.Fatalf("loop ended during recovery: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("loop not ready")
	}
	return r
}

func testJS(t *testing.T, s *server.Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(natstest.Conn(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// add stores an input and returns its stream sequence.
func add(t *testing.T, js jetstream.JetStream, body string) uint64 {
	t.Helper()
	ack, err := js.Publish(context.Background(), addSubject+".k", []byte(body))
	if err != nil {
		t.Fatalf("store input: %v", err)
	}
	return ack.Sequence
}

// sums returns every sum event on the stream, by the input sequence in its
// subject, failing on a second copy of one.
func sums(t *testing.T, js jetstream.JetStream) map[uint64]int {
	t.Helper()
	ctx := context.Background()
	cons, err := js.OrderedConsumer(ctx, "CHIRP", jetstream.OrderedConsumerConfig{FilterSubjects: []string{sumSubject + ".>"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]int{}
	for range info.NumPending {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("read events: %v", err)
		}
		seq, _ := strconv.ParseUint(m.Subject()[len(sumSubject)+1:], 10, 64)
		var e struct{ Sum int }
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			t.Fatalf("event %s: %v", m.Subject(), err)
		}
		if _, dup := got[seq]; dup {
			t.Fatalf("input %d has its event stored twice", seq)
		}
		got[seq] = e.Sum
	}
	return got
}

// waitSums waits until n sum events are on the stream.
func waitSums(t *testing.T, js jetstream.JetStream, n int) map[uint64]int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := sums(t, js)
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d sum events on the stream, want %d: %v", len(got), n, got)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSnapshot waits until the stored snapshot covers at least seq.
func waitSnapshot(t *testing.T, js jetstream.JetStream, seq uint64) uint64 {
	t.Helper()
	obs, err := js.ObjectStore(context.Background(), natskit.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := obs.GetInfo(context.Background(), "test")
		if err == nil {
			got, _ := strconv.ParseUint(info.Metadata[snapshotMeta], 10, 64)
			if got >= seq {
				return got
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot covering input %d (last error %v)", seq, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUndecodableInputIsDeadLetteredAndTheStreamGoesOn(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	dlq, err := natstest.Conn(t, s).SubscribeSync(DeadLetterPrefix + ".test")
	if err != nil {
		t.Fatal(err)
	}
	w := &sumWorld{}
	r := startLoop(t, s, w, -1)

	first := add(t, js, `{"n":2}`)
	bad := add(t, js, `{"n":`)
	third := add(t, js, `{"n":5}`)

	m, err := dlq.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no dead letter: %v", err)
	}
	if got := m.Header.Get("Chirp-Seq"); got != strconv.FormatUint(bad, 10) {
		t.Errorf("dead letter Chirp-Seq = %q, want %d", got, bad)
	}
	if got := m.Header.Get("Chirp-Error"); got == "" {
		t.Error("dead letter has no Chirp-Error")
	}
	if string(m.Data) != `{"n":` {
		t.Errorf("dead letter data = %q, want the input as stored", m.Data)
	}
	got := waitSums(t, js, 2)
	if got[first] != 2 || got[third] != 7 {
		t.Errorf("sums = %v, want %d:2 and %d:7", got, first, third)
	}
	r.stop(t)
	if w.sum != 7 {
		t.Errorf("world sum = %d, want 7", w.sum)
	}
}

func TestRestartRestoresTheSnapshotAndReplaysOnlyTheTail(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	r := startLoop(t, s, &sumWorld{}, 5)
	var seqs []uint64
	for i := 1; i <= 12; i++ {
		seqs = append(seqs, add(t, js, fmt.Sprintf(`{"n":%d}`, i)))
	}
	waitSums(t, js, 12)
	// One every 5 inputs; one still being written makes the next wait.
	snap := waitSnapshot(t, js, seqs[4])
	r.stop(t)

	w := &sumWorld{}
	r = startLoop(t, s, w, 1000)
	if !w.restored {
		t.Fatal("the restarted world did not restore the snapshot")
	}
	var tail []uint64
	for _, q := range seqs {
		if q > snap {
			tail = append(tail, q)
		}
	}
	if fmt.Sprint(w.seen) != fmt.Sprint(tail) {
		t.Errorf("restarted world stepped %v, want only the tail after the snapshot at %d: %v", w.seen, snap, tail)
	}
	if w.sum != 78 {
		t.Errorf("sum after restart = %d, want 78 (1+...+12)", w.sum)
	}
	// Live inputs go on from there, and nothing replayed was published
	// a second time.
	last := add(t, js, `{"n":100}`)
	got := waitSums(t, js, 13)
	if got[last] != 178 {
		t.Errorf("sum event after restart = %d, want 178", got[last])
	}
	r.stop(t)
}

func TestSnapshotThatDoesNotLoadFallsBackToAFullReplay(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	r := startLoop(t, s, &sumWorld{}, -1)
	var seqs []uint64
	for i := 1; i <= 6; i++ {
		seqs = append(seqs, add(t, js, fmt.Sprintf(`{"n":%d}`, i)))
	}
	waitSums(t, js, 6)
	r.stop(t)

	// A snapshot that claims to cover everything but is garbage.
	obs, err := js.ObjectStore(context.Background(), natskit.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	meta := jetstream.ObjectMeta{Name: "test", Metadata: map[string]string{snapshotMeta: strconv.FormatUint(seqs[5], 10)}}
	if _, err := obs.PutBytes(context.Background(), "test", []byte("not a snapshot")); err != nil {
		t.Fatal(err)
	}
	if err := obs.UpdateMeta(context.Background(), "test", meta); err != nil {
		t.Fatal(err)
	}

	w := &sumWorld{}
	r = startLoop(t, s, w, 1000)
	if w.restored {
		t.Fatal("a garbage snapshot was restored")
	}
	if fmt.Sprint(w.seen) != fmt.Sprint(seqs) {
		t.Errorf("world stepped %v, want the full replay %v", w.seen, seqs)
	}
	if w.sum != 21 {
		t.Errorf("sum after full replay = %d, want 21", w.sum)
	}
	r.stop(t)
}

func TestRedeliveredInputsAfterALostConsumerArePublishedOnce(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	r := startLoop(t, s, &sumWorld{}, -1)
	var last uint64
	for i := 1; i <= 4; i++ {
		last = add(t, js, fmt.Sprintf(`{"n":%d}`, i))
	}
	waitSums(t, js, 4)
	r.stop(t)
	// Losing the durable consumer (and with it the ack floor) makes the
	// next run perform every input again: the events it re-publishes
	// carry the same Nats-Msg-Id and the stream keeps one copy of each.
	if err := js.DeleteConsumer(context.Background(), "CHIRP", "test"); err != nil {
		t.Fatal(err)
	}
	w := &sumWorld{}
	r = startLoop(t, s, w, -1)
	waitAckFloor(t, js, last)
	r.stop(t)
	if w.sum != 10 {
		t.Errorf("sum = %d, want 10", w.sum)
	}
	got := sums(t, js)
	if len(got) != 4 {
		t.Errorf("%d sum events, want 4 (one per input): %v", len(got), got)
	}
}

// waitAckFloor waits until the loop's consumer has acknowledged seq, that
// is until every effect of the inputs up to it is done.
func waitAckFloor(t *testing.T, js jetstream.JetStream, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := js.Consumer(context.Background(), "CHIRP", "test")
		if err == nil {
			info, err := c.Info(context.Background())
			if err == nil && info.AckFloor.Stream >= seq {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer did not acknowledge input %d", seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A delivery lost on its way to the loop (with a NATS node that died, say)
// is still counted as delivered by the consumer, which sends later inputs
// and redelivers the lost one only after the ack wait (30 s). The loop must
// not step the later ones first and then take the lost one for a
// redelivery of something it applied: it notices the gap in the consumer
// sequence and has the lost input delivered again, before the later ones.
func TestALostDeliveryIsSteppedInStreamOrder(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	reg := prometheus.NewRegistry()
	w := &sumWorld{}
	r := startLoopOps(t, s, w, -1, Ops{Metrics: reg})
	ctx := context.Background()

	// A thief on another connection pulls from the loop's own durable
	// consumer and never acknowledges: the server counts its deliveries as
	// delivered to the consumer, like ones lost on the way to the loop.
	cons, err := testJS(t, s).Consumer(ctx, "CHIRP", "test")
	if err != nil {
		t.Fatal(err)
	}
	// The server serves the pull requests waiting on a consumer in turn,
	// one message each: once the loop's request and the thief's both wait,
	// the inputs stored next alternate between them.
	waitPullRequests(t, cons, 1)
	batch, err := cons.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	waitPullRequests(t, cons, 2)
	var seqs []uint64
	want := 0
	for i := 1; i <= 20; i++ {
		seqs = append(seqs, add(t, js, fmt.Sprintf(`{"n":%d}`, i)))
		want += i
	}
	var stolen []uint64
	for m := range batch.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		stolen = append(stolen, meta.Sequence.Stream)
	}
	if len(stolen) == 0 || stolen[0] == seqs[len(seqs)-1] {
		t.Fatalf("the thief took %v of %v: no delivery before a later one was lost", stolen, seqs)
	}

	// Well before the ack wait would redeliver what the thief took.
	got := waitSums(t, js, len(seqs))
	if got[seqs[len(seqs)-1]] != want {
		t.Errorf("sum after the last input = %d, want %d", got[seqs[len(seqs)-1]], want)
	}
	resets, _ := sample(t, reg, "chirp_world_consumer_resets_total", nil)
	r.stop(t)
	if fmt.Sprint(w.seen) != fmt.Sprint(seqs) {
		t.Errorf("world stepped %v, want each input once in stream order %v (the thief took %v)", w.seen, seqs, stolen)
	}
	if resets < 1 {
		t.Errorf("consumer resets = %v, want at least 1", resets)
	}
	t.Logf("the thief took %v; the consumer was reset %v times", stolen, resets)
}

// waitPullRequests waits until at least n pull requests wait on cons.
func waitPullRequests(t *testing.T, cons jetstream.Consumer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := cons.Info(context.Background())
		if err == nil && info.NumWaiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d pull requests wait on the consumer (info error %v)", n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// capturingWorld is a sumWorld whose snapshot is captured on the loop
// goroutine and encoded later, by an encode that waits for release.
type capturingWorld struct {
	sumWorld
	release chan struct{}
}

func (w *capturingWorld) Capture() func() ([]byte, error) {
	sum := w.sum
	return func() ([]byte, error) {
		<-w.release
		return json.Marshal(map[string]int{"sum": sum})
	}
}

// A Capturer's snapshot is encoded off the loop goroutine: while its
// encoding is held up, the world goes on stepping inputs; once let go, the
// snapshot stored is the state at capture time.
func TestCapturedSnapshotIsEncodedWithoutStoppingTheWorld(t *testing.T) {
	s := natstest.Server(t)
	js := testJS(t, s)
	w := &capturingWorld{release: make(chan struct{})}
	nc := natstest.Conn(t, s)
	njs, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	l := New(nc, njs, Config{
		Name: "test", Filters: []string{addSubject + ".>"}, SnapshotEvery: 3,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, w)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-l.Ready()

	var seqs []uint64
	for i := 1; i <= 12; i++ {
		seqs = append(seqs, add(t, js, fmt.Sprintf(`{"n":%d}`, i)))
	}
	// Every input is stepped and its event stored while the first
	// snapshot's encoding waits.
	got := waitSums(t, js, len(seqs))
	if got[seqs[11]] != 78 {
		t.Fatalf("sum after 12 inputs = %d, want 78", got[seqs[11]])
	}
	close(w.release)
	snap := waitSnapshot(t, js, seqs[2])
	obs, err := js.ObjectStore(context.Background(), natskit.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	b, err := obs.GetBytes(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	var stored struct{ Sum int }
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	// The snapshot covering input seq k holds the sum of 1..k's values.
	want := map[uint64]int{}
	for i, sq := range seqs {
		want[sq] = (i + 1) * (i + 2) / 2
	}
	if stored.Sum != want[snap] {
		t.Errorf("snapshot at seq %d holds sum %d, want %d (the state when captured)", snap, stored.Sum, want[snap])
	}
	cancel()
	<-done
}
