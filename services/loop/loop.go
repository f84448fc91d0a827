// Package loop runs a service's world: one goroutine takes the service's
// inputs in stream order, steps the world through a Handler and performs
// the effects. It is the only place where a world meets NATS.
//
// Order of effects for one stream input: its events are stored on the
// stream and acknowledged, then its replies and pushes are published, then
// the input is acknowledged to its durable consumer. Inputs are completed in
// the order they were stepped, so the consumer's ack floor is always a
// prefix of what the world has applied and whose effects are done.
//
// Inputs are stepped strictly in stream order and none is skipped: each
// delivery must carry the consumer sequence right after the previous one,
// and a gap (a delivery lost with a NATS node, or a consumer leader that
// numbered on elsewhere) makes the loop wait until every stepped input is
// complete and recreate the consumer right after the last input applied
// (reset.go), so a lost input is delivered again before any later one.
//
// Start-up: the world is restored from its latest snapshot (if any) and
// rebuilt by replaying, with effects suppressed, every later input up to the
// durable consumer's ack floor; consumption then resumes right after it with
// effects on. A snapshot is stored only once every input it covers is
// complete, so it never runs ahead of the ack floor. Events re-published after a crash
// carry the same Nats-Msg-Id (service, input sequence, index) and are
// dropped by the stream as duplicates. The world has caught up (Ops.CaughtUp,
// what readiness waits for) once it has also stepped the backlog: every
// input the consumer had pending when consumption began.
//
// Metrics (metrics.go) are taken by the loop around each Step; the world
// never sees a clock or a collector.
package loop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"chirp/contract"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler decodes one input, steps the world with it and records the
// effects in out. It runs on the loop goroutine only. An error means the
// input could not be decoded; the loop dead-letters it.
type Handler interface {
	Handle(m *Msg, out *Out) error
}

// Config names what a loop consumes.
type Config struct {
	// Name names this world: durable consumer, snapshot object and
	// dead-letter subject suffix. One partition of a service is
	// "<service>-<i>of<n>"; an unpartitioned service is "<service>".
	Name string
	// Service is the service name, the prefix of the Nats-Msg-Id of every
	// event it publishes (default Name). Only the partition owning an
	// input publishes its events, so the ids do not depend on how the
	// service is partitioned and a re-partitioned replay is de-duplicated.
	Service string
	// Filters are the stream subjects this world consumes.
	Filters []string
	// MaxAckPending bounds inputs stepped but not yet completed.
	MaxAckPending int
	// SnapshotEvery is how many inputs pass between snapshots (0: 10000;
	// negative: never). SnapshotInterval is the longest time between
	// snapshots while inputs arrive (0: 30s).
	SnapshotEvery    int
	SnapshotInterval time.Duration
	// Partition is the share of the service this world owns; it labels
	// the loop's metrics.
	Partition contract.Partition
	// Ops exports the loop's metrics and readiness (metrics.go).
	Ops Ops
	// Log receives the loop's logs.
	Log *slog.Logger
}

// DeadLetterPrefix is followed by the service name: undecodable inputs are
// republished there with their stream sequence in the Chirp-Seq header.
const DeadLetterPrefix = "chirp.dlq"

// Loop owns one world.
type Loop struct {
	cfg     Config
	nc      *nats.Conn
	js      jetstream.JetStream
	h       Handler
	queries chan *nats.Msg
	log     *slog.Logger
	ready   chan struct{}
	metrics *metrics
}

// New prepares a loop; Run starts it.
func New(nc *nats.Conn, js jetstream.JetStream, cfg Config, h Handler) *Loop {
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = 20000
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 10000
	}
	if cfg.Service == "" {
		cfg.Service = cfg.Name
	}
	if cfg.SnapshotInterval <= 0 {
		cfg.SnapshotInterval = 30 * time.Second
	}
	return &Loop{
		cfg: cfg, nc: nc, js: js, h: h,
		queries: make(chan *nats.Msg, 8192),
		log:     cfg.Log.With("service", cfg.Name),
		ready:   make(chan struct{}),
		metrics: newMetrics(cfg, js),
	}
}

// Query hands a query (a read that changes nothing) to the loop; it is
// stepped between stream inputs and answered at once. It drops the query
// and answers unavailable when the loop is overloaded.
func (l *Loop) Query(m *nats.Msg) {
	select {
	case l.queries <- m:
	default:
		if m.Reply != "" {
			_ = l.nc.Publish(m.Reply, failJSON(contract.CodeUnavailable, "service overloaded"))
		}
	}
}

// Ready is closed once recovery is done and the loop takes live inputs.
func (l *Loop) Ready() <-chan struct{} { return l.ready }

// Run recovers the world and then steps inputs until ctx ends. Its
// metrics are registered (Config.Ops) while it runs.
func (l *Loop) Run(ctx context.Context) error {
	unregister, err := l.metrics.register(l.cfg.Ops.Metrics)
	if err != nil {
		return fmt.Errorf("register %s metrics: %w", l.cfg.Name, err)
	}
	defer unregister()
	floor, err := l.ackFloor(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	snap := l.restore(ctx)
	if snap > floor {
		// The consumer was lost; the snapshot's inputs were complete.
		floor = snap
	}
	n, err := l.replay(ctx, snap, floor)
	if err != nil {
		return err
	}
	l.log.Info("recovered", "snapshot_seq", snap, "replayed", n, "ack_floor", floor, "took", time.Since(start).Round(time.Millisecond))
	cons, err := l.js.CreateOrUpdateConsumer(ctx, contract.StreamName, l.consumerConfig(floor))
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", l.cfg.Name, err)
	}
	f, err := l.consume(cons)
	if err != nil {
		return err
	}
	// f is nil while a reset replaces the consumer; resets then hands the
	// new one over.
	var resets chan *feed
	defer func() {
		if f != nil {
			f.stop()
		}
	}()
	// The backlog: inputs stored after the floor before consuming began.
	// Once that many new inputs are stepped (or one arrives with nothing
	// pending behind it), the world has caught up with the stream's tail.
	backlog := cons.CachedInfo().NumPending
	caughtUp := l.cfg.Ops.CaughtUp
	if caughtUp == nil {
		caughtUp = func() {}
	}
	if backlog == 0 {
		l.log.Info("caught up", "backlog", 0)
		caughtUp()
		caughtUp = nil
	}
	var fresh uint64
	done := make(chan *completion, 4096)
	completerDone := make(chan struct{})
	go func() {
		defer close(completerDone)
		l.complete(ctx, done)
	}()
	defer func() { close(done); <-completerDone }()
	close(l.ready)

	applied := floor
	snapped, sinceSnap := floor, 0
	snapTick := time.NewTicker(l.cfg.SnapshotInterval)
	defer snapTick.Stop()
	snapshot := func() {
		if p := l.takeSnapshot(applied); p != nil {
			done <- &completion{snapshot: p}
		}
		snapped, sinceSnap = applied, 0
	}
	var out Out
	waiting := make([]waitingQuery, 0, 4096)
	for {
		var inputs <-chan jetstream.Msg
		if f != nil {
			inputs = f.inputs
		}
		select {
		case <-ctx.Done():
			return nil
		case <-snapTick.C:
			if applied > snapped {
				snapshot()
			}
		case f = <-resets:
			resets = nil
		case m, ok := <-inputs:
			if !ok {
				return fmt.Errorf("%s: input iterator closed", l.cfg.Name)
			}
			meta, err := m.Metadata()
			if err != nil {
				l.log.Error("input without metadata", "subject", m.Subject(), "err", err)
				_ = m.Term()
				continue
			}
			seq := meta.Sequence.Stream
			if dseq := meta.Sequence.Consumer; dseq != f.last+1 {
				// A delivery before this one never arrived: stepping
				// this one would skip it for good. Stop taking
				// deliveries and have the consumer start again right
				// after applied, once everything stepped is complete.
				l.log.Warn("consumer reset after a lost delivery", "expected_dseq", f.last+1, "got_dseq", dseq, "seq", seq, "applied", applied)
				l.metrics.consumerResets.Inc()
				f.stop()
				f = nil
				barrier := make(chan struct{})
				done <- &completion{barrier: barrier}
				resets = make(chan *feed)
				go l.reset(ctx, barrier, applied, resets)
				continue
			}
			f.last = meta.Sequence.Consumer
			if seq <= applied {
				if meta.NumDelivered == 1 {
					// Deliveries are contiguous since the consumer
					// started after an input this world had applied, so
					// every input up to applied was delivered and stepped
					// in order, this one included: a first delivery of it
					// now means the server broke its own order.
					l.log.Error("first delivery of an input already applied, acknowledged again", "seq", seq, "applied", applied, "dseq", meta.Sequence.Consumer, "subject", m.Subject())
				}
				// A redelivery of an input already stepped. Its first
				// acknowledgement may be queued still, or may have been
				// sent and lost (a NATS node went away): acknowledge it
				// again, after everything queued before it. Skipping it
				// left the consumer's ack floor stuck until MaxAckPending
				// stopped deliveries altogether.
				done <- &completion{input: m}
				continue
			}
			applied = seq
			in := &Msg{Subject: m.Subject(), Data: m.Data(), Header: m.Headers(), Seq: seq, At: meta.Timestamp, Reply: m.Headers().Get(contract.HeaderReply), Request: m.Headers().Get(contract.HeaderRequest)}
			out.Reset()
			start := time.Now()
			err = l.h.Handle(in, &out)
			since(l.metrics.stepInput, start)
			l.metrics.steppedInput.Inc()
			if err != nil {
				l.deadLetter(in, err, &out)
			}
			done <- l.perform(in, &out, m)
			if fresh++; caughtUp != nil && (fresh >= backlog || meta.NumPending == 0) {
				l.log.Info("caught up", "backlog", backlog, "applied", applied)
				caughtUp()
				caughtUp = nil
			}
			if sinceSnap++; l.cfg.SnapshotEvery > 0 && sinceSnap >= l.cfg.SnapshotEvery {
				snapshot()
			}
		case q := <-l.queries:
			after, _ := strconv.ParseUint(q.Header.Get(contract.HeaderAfter), 10, 64)
			if after <= applied {
				l.answer(q, &out)
				continue
			}
			if len(waiting) == cap(waiting) {
				_ = l.nc.Publish(q.Reply, failJSON(contract.CodeUnavailable, "service overloaded"))
				continue
			}
			waiting = append(waiting, waitingQuery{m: q, after: after, since: time.Now()})
		}
		if len(waiting) > 0 {
			waiting = l.release(waiting, applied, &out)
		}
	}
}

// waitingQuery is a query that must see the world at or after stream
// sequence after (its Chirp-After header).
type waitingQuery struct {
	m     *nats.Msg
	after uint64
	since time.Time
}

// maxQueryWait bounds how long a query waits for its Chirp-After input;
// its requester has given up long before.
const maxQueryWait = 30 * time.Second

// release answers the waiting queries the world has caught up with and
// drops those waiting too long, keeping the rest in arrival order.
func (l *Loop) release(waiting []waitingQuery, applied uint64, out *Out) []waitingQuery {
	keep := waiting[:0]
	for _, w := range waiting {
		switch {
		case w.after <= applied:
			l.answer(w.m, out)
		case time.Since(w.since) > maxQueryWait:
			_ = l.nc.Publish(w.m.Reply, failJSON(contract.CodeUnavailable, "the service has not seen the input the query waits for"))
		default:
			keep = append(keep, w)
		}
	}
	clear(waiting[len(keep):])
	return keep
}

// answer steps a query and publishes its replies at once: a query changes
// nothing, so nothing needs to be stored first.
func (l *Loop) answer(q *nats.Msg, out *Out) {
	in := &Msg{Subject: q.Subject, Data: q.Data, Header: q.Header, Reply: q.Reply}
	out.Reset()
	start := time.Now()
	err := l.h.Handle(in, out)
	since(l.metrics.stepQuery, start)
	if err != nil {
		_ = out.Reply(q.Reply, contract.Fail(contract.CodeBadRequest, err.Error()))
	}
	if err := out.PublishSends(l.nc); err != nil {
		l.log.Warn("publish reply", "err", err)
	}
	l.runJobs(out.jobs)
}

func (l *Loop) consumerConfig(floor uint64) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:        l.cfg.Name,
		FilterSubjects: l.cfg.Filters,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxAckPending:  l.cfg.MaxAckPending,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if floor > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = floor + 1
	}
	return cfg
}

// ackFloor returns the stream sequence up to which every input of this
// service is completed, and removes the durable consumer so that it can be
// recreated to start right after that point: inputs delivered to a crashed
// run but never acknowledged are then delivered again at once instead of
// after the ack wait.
func (l *Loop) ackFloor(ctx context.Context) (uint64, error) {
	cons, err := l.js.Consumer(ctx, contract.StreamName, l.cfg.Name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return l.inheritedFloor(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("consumer %s info: %w", l.cfg.Name, err)
	}
	info := cons.CachedInfo()
	floor := info.AckFloor.Stream
	if err := l.js.DeleteConsumer(ctx, contract.StreamName, l.cfg.Name); err != nil {
		return 0, fmt.Errorf("reset consumer %s: %w", l.cfg.Name, err)
	}
	return floor, nil
}

// inheritedFloor is where a world with no consumer of its own takes over
// when its service ran before under another partitioning: the lowest ack
// floor of the service's other consumers. Every input up to it had its
// effects performed by the partition that owned it, so this world replays
// them with effects suppressed; later ones it performs again, with the
// same event ids (see Config.Service).
func (l *Loop) inheritedFloor(ctx context.Context) (uint64, error) {
	var floor uint64
	found := false
	stream, err := l.js.Stream(ctx, contract.StreamName)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", contract.StreamName, err)
	}
	// Siblings of this partitioning ("<service>-<j>of<n>") are not
	// predecessors.
	sibling := ""
	if i := strings.LastIndex(l.cfg.Name, "of"); l.cfg.Name != l.cfg.Service && i > 0 {
		sibling = l.cfg.Name[i:]
	}
	names := stream.ConsumerNames(ctx)
	for name := range names.Name() {
		if name == l.cfg.Name || (name != l.cfg.Service && !strings.HasPrefix(name, l.cfg.Service+"-")) ||
			(sibling != "" && strings.HasSuffix(name, sibling)) {
			continue
		}
		cons, err := stream.Consumer(ctx, name)
		if err != nil {
			continue
		}
		f := cons.CachedInfo().AckFloor.Stream
		if !found || f < floor {
			floor, found = f, true
		}
	}
	if err := names.Err(); err != nil {
		return 0, fmt.Errorf("list consumers: %w", err)
	}
	if found {
		l.log.Info("taking over from another partitioning", "ack_floor", floor)
	}
	return floor, nil
}

// replay steps every input after from up to floor with effects suppressed.
func (l *Loop) replay(ctx context.Context, from, floor uint64) (int, error) {
	if floor <= from {
		return 0, nil
	}
	cons, err := l.js.OrderedConsumer(ctx, contract.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: l.cfg.Filters,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from + 1,
	})
	if err != nil {
		return 0, fmt.Errorf("replay consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2048))
	if err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	defer it.Stop()
	var out Out
	n := 0
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrNoHeartbeat) {
			l.log.Warn("replay consumer missed heartbeats, pulling again", "err", err)
			continue
		}
		if err != nil {
			return n, fmt.Errorf("replay: %w", err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return n, fmt.Errorf("replay metadata: %w", err)
		}
		in := &Msg{Subject: m.Subject(), Data: m.Data(), Header: m.Headers(), Seq: meta.Sequence.Stream, At: meta.Timestamp, Request: m.Headers().Get(contract.HeaderRequest)}
		out.Reset()
		start := time.Now()
		err = l.h.Handle(in, &out)
		since(l.metrics.stepReplay, start)
		l.metrics.steppedReplay.Inc()
		if err != nil {
			l.log.Warn("replay: undecodable input skipped", "seq", in.Seq, "subject", in.Subject, "err", err)
		}
		n++
		if in.Seq >= floor {
			return n, nil
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

// completion is one stepped input whose effects are under way, a
// snapshot waiting for the inputs before it to complete, or a barrier.
type completion struct {
	events   []*nats.Msg
	acks     []jetstream.PubAckFuture
	sends    *sendBatch
	jobs     []func() *nats.Msg
	input    jetstream.Msg
	snapshot *pendingSnapshot
	// barrier, when set, is closed once every completion before it is
	// done: a reset of the consumer waits for it.
	barrier chan struct{}
}

// perform starts the input's stream publishes and hands the rest to the
// completer, which keeps the order.
func (l *Loop) perform(in *Msg, out *Out, m jetstream.Msg) *completion {
	c := &completion{input: m}
	if len(out.events) > 0 {
		c.events = make([]*nats.Msg, len(out.events))
		c.acks = make([]jetstream.PubAckFuture, len(out.events))
		for i, ev := range out.events {
			ev.Header.Set(contract.HeaderMsgID, l.cfg.Service+":"+strconv.FormatUint(in.Seq, 10)+":"+strconv.Itoa(i))
			c.events[i] = ev
			f, err := l.js.PublishMsgAsync(ev)
			if err != nil {
				l.log.Warn("publish event", "subject", ev.Subject, "err", err)
			}
			c.acks[i] = f
		}
	}
	c.sends = out.takeSends()
	if len(out.jobs) > 0 {
		c.jobs = append([]func() *nats.Msg(nil), out.jobs...)
	}
	return c
}

// complete finishes inputs in step order: events stored, then sends, then
// the input's acknowledgement.
func (l *Loop) complete(ctx context.Context, done <-chan *completion) {
	storing := make(chan struct{}, 1)
	for c := range done {
		if c.barrier != nil {
			close(c.barrier)
			continue
		}
		if c.snapshot != nil {
			select {
			case storing <- struct{}{}:
				go func(p *pendingSnapshot) {
					defer func() { <-storing }()
					if err := l.storeSnapshot(ctx, p); err != nil {
						l.log.Warn("snapshot not stored", "seq", p.seq, "err", err)
					}
				}(c.snapshot)
			default: // the previous one is still being written; a later one follows
			}
			continue
		}
		for i, f := range c.acks {
			l.confirm(ctx, c.events[i], f)
		}
		if err := c.sends.publish(l.nc); err != nil {
			l.log.Warn("publish", "err", err)
		}
		c.sends.release()
		l.runJobs(c.jobs)
		if err := c.input.Ack(); err != nil {
			l.log.Warn("ack input", "err", err)
		}
	}
}

// PubAckWait bounds the wait for JetStream's acknowledgement of an
// asynchronous publish. An acknowledgement can be lost for good (the
// server the connection was on was cut off from the cluster, then the
// connection moved), and a future with no timeout then never resolves:
// waiting on it stalled the world behind it.
const PubAckWait = 10 * time.Second

// confirm waits until ev is stored, publishing it again (same Nats-Msg-Id,
// so at most one copy is kept) until the stream acknowledges it or ctx ends.
func (l *Loop) confirm(ctx context.Context, ev *nats.Msg, f jetstream.PubAckFuture) {
	if f != nil {
		t := time.NewTimer(PubAckWait)
		select {
		case <-f.Ok():
			t.Stop()
			return
		case err := <-f.Err():
			t.Stop()
			l.log.Warn("event not stored, retrying", "subject", ev.Subject, "err", err)
		case <-t.C:
			l.log.Warn("event not acknowledged, publishing again", "subject", ev.Subject, "waited", PubAckWait)
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	for backoff := 50 * time.Millisecond; ctx.Err() == nil; backoff = min(2*backoff, 2*time.Second) {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := l.js.PublishMsg(pctx, ev)
		cancel()
		if err == nil {
			return
		}
		l.log.Warn("event not stored, retrying", "subject", ev.Subject, "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
	}
}

func (l *Loop) runJobs(jobs []func() *nats.Msg) {
	for _, job := range jobs {
		go func() {
			if m := job(); m != nil {
				if err := l.nc.PublishMsg(m); err != nil {
					l.log.Warn("publish job result", "subject", m.Subject, "err", err)
				}
			}
		}()
	}
}

// deadLetter records an undecodable input: logged with its sequence,
// copied to chirp.dlq.<service>, answered bad_request if anyone waits.
func (l *Loop) deadLetter(in *Msg, cause error, out *Out) {
	l.log.Error("undecodable input dead-lettered", "seq", in.Seq, "subject", in.Subject, "err", cause)
	l.metrics.deadLettered.Inc()
	out.Reset()
	dl := nats.NewMsg(DeadLetterPrefix + "." + l.cfg.Name)
	dl.Data = in.Data
	dl.Header.Set("Chirp-Seq", strconv.FormatUint(in.Seq, 10))
	dl.Header.Set("Chirp-Subject", in.Subject)
	dl.Header.Set("Chirp-Error", cause.Error())
	out.sendMsg(dl)
	_ = out.Reply(in.Reply, contract.Fail(contract.CodeBadRequest, cause.Error()))
}

func failJSON(code, message string) []byte {
	return []byte(`{"ok":false,"error":{"code":"` + code + `","message":"` + message + `"}}`)
}
