package loop

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"chirp/contract"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Ops connects a loop to its process's operations endpoints. The zero
// value exports nothing.
type Ops struct {
	// Metrics receives the loop's Prometheus collectors while it runs
	// (nil: none). Several loops may share one registry: their series
	// differ by the service and partition labels.
	Metrics prometheus.Registerer
	// CaughtUp, if set, is called once, on the loop goroutine, when the
	// world has stepped every input that was in the stream when it began
	// consuming (start-up replay and backlog done): the world is ready.
	CaughtUp func()
}

// lagTimeout bounds the consumer info request made on a scrape.
const lagTimeout = 2 * time.Second

// metrics are one loop's collectors. The world never sees them: the loop
// times each Step from outside and counts around it. Histograms and
// counters are safe for concurrent use; lastSnapshot is written by the
// goroutine storing snapshots and read on scrapes, hence the atomic.
type metrics struct {
	step         *prometheus.HistogramVec // by kind: input, query, replay
	stepped      *prometheus.CounterVec   // by kind: input, replay
	deadLettered prometheus.Counter
	// consumerResets counts the durable consumer recreated after a lost
	// delivery (reset.go).
	consumerResets prometheus.Counter
	// The children the loop updates, looked up once.
	stepInput, stepQuery, stepReplay prometheus.Observer
	steppedInput, steppedReplay      prometheus.Counter
	// lastSnapshot is the unix nanoseconds at which the newest stored
	// (or restored) snapshot was taken; 0: none yet.
	lastSnapshot atomic.Int64
	snapAge      prometheus.Collector
	lag          *lagCollector
}

func newMetrics(cfg Config, js jetstream.JetStream) *metrics {
	labels := prometheus.Labels{"service": cfg.Service, "partition": strconv.Itoa(cfg.Partition.Index)}
	m := &metrics{
		step: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "chirp_world_step_seconds",
			Help:        "Time one world Step takes, timed by the loop around it, by kind (input: a live stream input; query: a read; replay: a start-up input).",
			ConstLabels: labels,
			Buckets:     []float64{1e-6, 5e-6, 25e-6, 1e-4, 5e-4, 2.5e-3, .01, .05, .25, 1},
		}, []string{"kind"}),
		stepped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "chirp_world_inputs_stepped_total",
			Help:        "Stream inputs the world has stepped, by kind (input: live; replay: at start-up, effects suppressed).",
			ConstLabels: labels,
		}, []string{"kind"}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "chirp_world_dead_lettered_total",
			Help:        "Inputs the world could not decode, republished on chirp.dlq.<world>.",
			ConstLabels: labels,
		}),
		consumerResets: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "chirp_world_consumer_resets_total",
			Help:        "Times the world's durable consumer was recreated right after the last input applied because a delivery was lost.",
			ConstLabels: labels,
		}),
		lag: &lagCollector{js: js, consumer: cfg.Name, desc: prometheus.NewDesc(
			"chirp_consumer_num_pending",
			"Inputs in the stream the world's durable consumer has not delivered yet (its num_pending), read from the consumer's info at scrape time.",
			nil, prometheus.Labels{"stream": contract.StreamName, "consumer": cfg.Name},
		), ackDesc: prometheus.NewDesc(
			"chirp_consumer_num_ack_pending",
			"Inputs delivered to the world's durable consumer but not yet acknowledged (its num_ack_pending).",
			nil, prometheus.Labels{"stream": contract.StreamName, "consumer": cfg.Name},
		)},
	}
	m.snapAge = &snapshotAgeCollector{m: m, desc: prometheus.NewDesc(
		"chirp_snapshot_age_seconds",
		"Seconds since the world's newest stored snapshot was taken; absent until there is one.",
		nil, labels,
	)}
	m.stepInput, m.stepQuery, m.stepReplay = m.step.WithLabelValues("input"), m.step.WithLabelValues("query"), m.step.WithLabelValues("replay")
	m.steppedInput, m.steppedReplay = m.stepped.WithLabelValues("input"), m.stepped.WithLabelValues("replay")
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.step, m.stepped, m.deadLettered, m.consumerResets, m.snapAge, m.lag}
}

// register adds the collectors to reg and returns the func that removes
// them again.
func (m *metrics) register(reg prometheus.Registerer) (func(), error) {
	if reg == nil {
		return func() {}, nil
	}
	var done []prometheus.Collector
	unregister := func() {
		for _, c := range done {
			reg.Unregister(c)
		}
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			unregister()
			return nil, err
		}
		done = append(done, c)
	}
	return unregister, nil
}

// since observes the seconds from start to now on o: the time of one Step.
func since(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

// snapshotTaken records when the newest stored snapshot was taken.
func (m *metrics) snapshotTaken(at time.Time) { m.lastSnapshot.Store(at.UnixNano()) }

// snapshotAgeCollector reports the snapshot's age at scrape time.
type snapshotAgeCollector struct {
	m    *metrics
	desc *prometheus.Desc
}

func (c *snapshotAgeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *snapshotAgeCollector) Collect(ch chan<- prometheus.Metric) {
	at := c.m.lastSnapshot.Load()
	if at == 0 {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, time.Since(time.Unix(0, at)).Seconds())
}

// lagCollector asks JetStream for the durable consumer's info on each
// scrape, on the scraping goroutine, never the loop's. While the consumer
// does not exist (recovery) or the request fails, it reports nothing.
type lagCollector struct {
	js       jetstream.JetStream
	consumer string
	desc     *prometheus.Desc
	ackDesc  *prometheus.Desc
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.ackDesc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
	defer cancel()
	cons, err := c.js.Consumer(ctx, contract.StreamName, c.consumer)
	if err != nil {
		return
	}
	info := cons.CachedInfo()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(info.NumPending))
	ch <- prometheus.MustNewConstMetric(c.ackDesc, prometheus.GaugeValue, float64(info.NumAckPending))
}
