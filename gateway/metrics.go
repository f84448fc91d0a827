package gateway

import (
	"bytes"
	"strconv"

	"chirp/contract"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one gateway's Prometheus collectors. They live with the
// gateway, not in a global registry, so that every gateway of a test
// process counts its own sockets; RegisterMetrics adds them to a registry.
//
// Who updates what: the HTTP handler goroutine of a socket counts its open
// and close (connlog.go), the reader counts the errors it answers, the
// writer counts what it writes and the errors of service replies. All of
// them are safe for concurrent use.
type metrics struct {
	open       prometheus.Gauge
	opened     prometheus.Counter
	closed     *prometheus.CounterVec // by close code
	pushes     prometheus.Counter
	frames     prometheus.Counter
	queueDepth prometheus.Histogram
	rejected   *prometheus.CounterVec // by error code
}

func newMetrics(id string) *metrics {
	labels := prometheus.Labels{"gateway": id}
	m := &metrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chirp_gateway_open_sockets", Help: "WebSocket connections open now.", ConstLabels: labels,
		}),
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chirp_gateway_connections_opened_total", Help: "WebSocket connections accepted.", ConstLabels: labels,
		}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chirp_gateway_connections_closed_total", Help: "WebSocket connections closed, by close code (1006: dropped without a close frame).", ConstLabels: labels,
		}, []string{"code"}),
		pushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chirp_gateway_pushes_total", Help: "Push frames written to sockets; rate() gives pushes per second.", ConstLabels: labels,
		}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chirp_gateway_frames_written_total", Help: "Reply and push frames written to sockets (a batch counts each frame).", ConstLabels: labels,
		}),
		queueDepth: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chirp_gateway_send_queue_depth", Help: "Items left in a client's send queue after its writer took a batch, observed per socket write.", ConstLabels: labels,
			Buckets: []float64{0, 1, 4, 16, 64, 256, 1024, 4096},
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chirp_gateway_rejected_frames_total", Help: "Request frames answered with an error, by error code (the gateway's and the services').", ConstLabels: labels,
		}, []string{"code"}),
	}
	// Every code of the protocol has a series from the start, at zero, so
	// that rate() and alerts see the first rejection.
	for _, code := range []string{
		contract.CodeBadRequest, contract.CodeUnknownOp, contract.CodeUnauthenticated, contract.CodeInvalid,
		contract.CodeNotFound, contract.CodeConflict, contract.CodeUnavailable, contract.CodeRateLimited, contract.CodeInternal,
	} {
		m.rejected.WithLabelValues(code)
	}
	return m
}

// RegisterMetrics adds the gateway's collectors to reg.
func (g *Gateway) RegisterMetrics(reg prometheus.Registerer) error {
	m := g.metrics
	for _, c := range []prometheus.Collector{m.open, m.opened, m.closed, m.pushes, m.frames, m.queueDepth, m.rejected} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// wrote counts a batch of frames written to a socket, with depth items
// still queued behind it. Writer goroutine.
func (m *metrics) wrote(frames [][]byte, depth int) {
	pushes := 0
	for _, f := range frames {
		if bytes.HasPrefix(f, pushPrefix) {
			pushes++
		}
	}
	m.pushes.Add(float64(pushes))
	m.frames.Add(float64(len(frames)))
	m.queueDepth.Observe(float64(depth))
}

// pushPrefix starts every push frame the feed service and the gateway
// encode ({"push":"<kind>",...}).
var pushPrefix = []byte(`{"push"`)

// closedWith counts a closed socket.
func (m *metrics) closedWith(code int) {
	m.closed.WithLabelValues(strconv.Itoa(code)).Inc()
}
