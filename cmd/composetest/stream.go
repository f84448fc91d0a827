package composetest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chirp/contract"
	"chirp/natskit"

	"github.com/nats-io/nats.go/jetstream"
)

// checkStream asks the cluster, through the published NATS port, how the
// CHIRP stream is kept: it must have three replicas, on file storage, with
// a leader. It returns the leader's and the followers' server names (the
// compose services' names).
func checkStream(ctx context.Context, url string) (leader string, followers []string, err error) {
	nc, err := natskit.Connect(url, "chirp-compose-test")
	if err != nil {
		return "", nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", nil, fmt.Errorf("jetstream: %w", err)
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := js.Stream(ictx, contract.StreamName)
	if err != nil {
		return "", nil, fmt.Errorf("stream %s: %w", contract.StreamName, err)
	}
	info, err := s.Info(ictx)
	if err != nil {
		return "", nil, fmt.Errorf("stream %s info: %w", contract.StreamName, err)
	}
	c := info.Cluster
	if info.Config.Replicas != 3 || info.Config.Storage != jetstream.FileStorage || c == nil || c.Leader == "" || len(c.Replicas) != 2 {
		return "", nil, fmt.Errorf("stream %s: %d replicas, storage %v, cluster %+v; want 3 file replicas, a leader and two followers",
			contract.StreamName, info.Config.Replicas, info.Config.Storage, c)
	}
	return c.Leader, []string{c.Replicas[0].Name, c.Replicas[1].Name}, nil
}

// dumpStream returns, for a failed run, what the stream holds on subjects
// (filters such as chirp.*.tweet.*.u12), and the state of every consumer:
// where an acknowledged write went missing.
func dumpStream(ctx context.Context, url string, subjects []string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	nc, err := natskit.Connect(url, "chirp-compose-test-dump")
	if err != nil {
		return err.Error()
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, contract.StreamName)
	if err != nil {
		return err.Error()
	}
	if info, err := s.Info(ctx); err == nil {
		p("stream %s: %d messages, seq %d..%d, leader %s", contract.StreamName, info.State.Msgs, info.State.FirstSeq, info.State.LastSeq, info.Cluster.Leader)
	}
	for ci := range s.ListConsumers(ctx).Info() {
		p("consumer %s: delivered %d, ack floor %d, pending %d, ack pending %d, waiting %d",
			ci.Name, ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumPending, ci.NumAckPending, ci.NumWaiting)
	}
	if len(subjects) == 0 {
		return b.String()
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: subjects})
	if err != nil {
		p("dump %v: %v", subjects, err)
		return b.String()
	}
	for n := 0; n < 200; n++ {
		m, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			break
		}
		meta, _ := m.Metadata()
		var seq uint64
		var at time.Time
		if meta != nil {
			seq, at = meta.Sequence.Stream, meta.Timestamp
		}
		p("  seq %d %s %s msg-id %q request %q: %.200s", seq, at.UTC().Format("15:04:05.000"), m.Subject(),
			m.Headers().Get(contract.HeaderMsgID), m.Headers().Get(contract.HeaderRequest), m.Data())
	}
	return b.String()
}
