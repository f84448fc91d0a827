package stack_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"chirp/cmd/stack"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// What an operator reads over HTTP from a running stack: /metrics scraped
// as Prometheus does, and /readyz.

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// scrape reads /metrics in Prometheus's text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := get(t, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: status %d: %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	return fams
}

// seriesValue is one series' value (a histogram's sample count); ok is
// false when no series of name has labels.
func seriesValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
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
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// check is one expectation on a scrape.
type check struct {
	name   string
	labels map[string]string
	ok     func(float64) bool
	want   string
}

func equals(n float64) (func(float64) bool, string) {
	return func(v float64) bool { return v == n }, "== " + model.SampleValue(n).String()
}

func atLeast(n float64) (func(float64) bool, string) {
	return func(v float64) bool { return v >= n }, ">= " + model.SampleValue(n).String()
}

// waitMetrics scrapes until every check holds (writers count after the
// frame is on the wire, so a scrape may come a moment early), then fails
// naming those that do not.
func waitMetrics(t *testing.T, base string, checks []check) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		fams := scrape(t, base)
		var failed []string
		for _, c := range checks {
			v, ok := seriesValue(fams, c.name, c.labels)
			if !ok {
				failed = append(failed, c.name+labelString(c.labels)+" absent, want "+c.want)
			} else if !c.ok(v) {
				failed = append(failed, c.name+labelString(c.labels)+" = "+model.SampleValue(v).String()+", want "+c.want)
			}
		}
		if len(failed) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics:\n  %s", strings.Join(failed, "\n  "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func labelString(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	return model.LabelSet(toLabelSet(l)).String()
}

func toLabelSet(l map[string]string) model.LabelSet {
	s := model.LabelSet{}
	for k, v := range l {
		s[model.LabelName(k)] = model.LabelValue(v)
	}
	return s
}

func newCheck(name string, labels map[string]string, cond func(float64) (func(float64) bool, string), n float64) check {
	ok, want := cond(n)
	return check{name: name, labels: labels, ok: ok, want: want}
}

// replyTo reads frames until the reply to request id and returns it,
// skipping pushes; id "" is the reply to a frame that was not a request.
func (r *raw) replyTo(id string) object {
	r.t.Helper()
	for {
		objs, _ := r.readFrame()
		for _, o := range objs {
			if _, push := o["push"]; push {
				continue
			}
			if re, _ := o.str("re"); re == id {
				return o
			}
		}
	}
}

func TestMetricsShowAPostOneOpenSocketAndABadFrame(t *testing.T) {
	s := runStack(t, nil)
	base := "http://" + s.HTTPAddr
	url := "ws://" + s.HTTPAddr + "/ws"

	// One socket, and only one, all test long.
	r := dialRaw(t, url)
	h := newHandle("measured")
	r.sendText(`{"id":"s1","op":"signup","handle":"` + h + `","password":"` + testPassword + `"}`)
	if rep := r.replyTo("s1"); string(rep["ok"]) != "true" {
		t.Fatalf("signup: %v", rep)
	}
	r.sendText(`{"id":"p1","op":"post","text":"counted"}`)
	if rep := r.replyTo("p1"); string(rep["ok"]) != "true" {
		t.Fatalf("post: %v", rep)
	}
	r.sendText("not a request")
	// The post's own push may come after its reply: skip it.
	if rep := r.replyTo(""); rep.errorCode() != "bad_request" {
		t.Fatalf("bad frame answered %v, want bad_request", rep)
	}

	gw := map[string]string{"gateway": "gwtest"}
	feed := map[string]string{"service": "feed", "partition": "0"}
	waitMetrics(t, base, []check{
		newCheck("chirp_gateway_open_sockets", gw, equals, 1),
		newCheck("chirp_gateway_connections_opened_total", gw, equals, 1),
		newCheck("chirp_gateway_rejected_frames_total", map[string]string{"gateway": "gwtest", "code": "bad_request"}, equals, 1),
		newCheck("chirp_gateway_rejected_frames_total", map[string]string{"gateway": "gwtest", "code": "conflict"}, equals, 0),
		// The post's own tweet push, the only push of the test.
		newCheck("chirp_gateway_pushes_total", gw, equals, 1),
		newCheck("chirp_gateway_send_queue_depth", gw, atLeast, 3),
		// The post reached every world: the user world stepped the
		// signup, the tweet world the post, the feed world at least the
		// tweet and the presence of the socket.
		newCheck("chirp_world_step_seconds", map[string]string{"service": "feed", "kind": "input"}, atLeast, 2),
		newCheck("chirp_world_inputs_stepped_total", map[string]string{"service": "tweet", "kind": "input"}, atLeast, 2),
		newCheck("chirp_world_inputs_stepped_total", map[string]string{"service": "user", "kind": "input"}, equals, 1),
		newCheck("chirp_world_inputs_stepped_total", map[string]string{"service": "feed", "kind": "replay"}, equals, 0),
		newCheck("chirp_world_step_seconds", map[string]string{"service": "feed", "kind": "query"}, equals, 0),
		newCheck("chirp_world_dead_lettered_total", feed, equals, 0),
		// Lag of every world's durable consumer, nothing left behind.
		newCheck("chirp_consumer_num_pending", map[string]string{"stream": "CHIRP", "consumer": "feed"}, equals, 0),
		newCheck("chirp_consumer_num_pending", map[string]string{"stream": "CHIRP", "consumer": "tweet"}, equals, 0),
		newCheck("chirp_consumer_num_ack_pending", map[string]string{"stream": "CHIRP", "consumer": "user"}, equals, 0),
		// The process's own collectors are there too.
		newCheck("go_goroutines", nil, atLeast, 1),
	})

	// A read is a query step of the feed world.
	r.sendText(`{"id":"f1","op":"feed"}`)
	if rep := r.replyTo("f1"); string(rep["ok"]) != "true" {
		t.Fatalf("feed: %v", rep)
	}
	waitMetrics(t, base, []check{
		newCheck("chirp_world_step_seconds", map[string]string{"service": "feed", "kind": "query"}, equals, 1),
	})
}

func TestReadyzOnceEveryWorldHasCaughtUpAndNotAfterShutdown(t *testing.T) {
	s := runStack(t, func(c *stack.Config) { c.Partitions = 2 })
	base := "http://" + s.HTTPAddr
	deadline := time.Now().Add(waitFor)
	for {
		status, body := get(t, base+"/readyz")
		if status == http.StatusOK {
			if body != "ready\n" {
				t.Errorf("/readyz body %q", body)
			}
			break
		}
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "catching up") {
			t.Fatalf("/readyz while starting: %d %q, want 503 naming the worlds catching up", status, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within %v: %s", waitFor, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, _ := get(t, base+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz: %d", status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	err := s.Ready()
	if err == nil {
		t.Fatal("a stack that was shut down says it is ready")
	}
	for _, want := range []string{"gateway shutting down", "chirp-feed: CLOSED"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("readiness after shutdown %q does not say %q", err, want)
		}
	}
}
