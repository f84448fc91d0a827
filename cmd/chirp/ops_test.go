package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The operator's HTTP endpoints of a real `chirp run` process: on the
// gateway's address and on CHIRP_HEALTH_ADDR, the address a service
// process without a gateway serves them on.

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
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
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHealthAddressAndGatewayServeHealthzReadyzAndMetrics(t *testing.T) {
	bin := buildChirp(t)
	data, addr, health := t.TempDir(), freeAddr(t), freeAddr(t)
	_, logs := runChirp(t, bin, data, addr, "CHIRP_HEALTH_ADDR="+health)

	for _, base := range []string{"http://" + health, "http://" + addr} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			status, body := httpGet(t, base+"/readyz")
			if status == http.StatusOK && body == "ready\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s/readyz: %d %q\n%s", base, status, body, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if status, body := httpGet(t, base+"/healthz"); status != http.StatusOK {
			t.Errorf("%s/healthz: %d %q", base, status, body)
		}
		status, body := httpGet(t, base+"/metrics")
		if status != http.StatusOK {
			t.Fatalf("%s/metrics: %d", base, status)
		}
		for _, series := range []string{
			`chirp_world_step_seconds_count{kind="input",partition="0",service="feed"}`,
			`chirp_world_inputs_stepped_total{kind="input",partition="0",service="user"} 0`,
			`chirp_consumer_num_pending{consumer="tweet",stream="CHIRP"} 0`,
			`chirp_gateway_open_sockets{gateway=`,
			`chirp_gateway_rejected_frames_total{code="bad_request",`,
		} {
			if !strings.Contains(body, "\n"+series) {
				t.Errorf("%s/metrics has no %s", base, series)
			}
		}
	}
}
