package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbeAcceptsOnly2xx(t *testing.T) {
	status := map[string]int{"/ok": 200, "/nocontent": 204, "/down": 503, "/missing": 404}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status[r.URL.Path])
		_, _ = io.WriteString(w, "jetstream not ready")
	}))
	defer srv.Close()

	for path, code := range status {
		err := probe(context.Background(), srv.URL+path)
		if ok := code >= 200 && code < 300; ok != (err == nil) {
			t.Errorf("probe %s (status %d) = %v", path, code, err)
		}
		if err != nil && !strings.Contains(err.Error(), "jetstream not ready") {
			t.Errorf("probe %s error %q does not carry the body", path, err)
		}
	}
}

func TestProbeFailsWhenNothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := probe(context.Background(), "http://"+addr+"/healthz"); err == nil {
		t.Fatal("probe of a closed port succeeded")
	}
}

func TestHealthMainExitCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cases := []struct {
		args []string
		want int
	}{
		{[]string{srv.URL + "/healthz"}, 0},
		{[]string{srv.URL + "/other"}, 1},
		{[]string{"::not a url"}, 1},
		{nil, 2},
		{[]string{"a", "b"}, 2},
	}
	for _, c := range cases {
		if got := healthMain(c.args); got != c.want {
			t.Errorf("chirp health %q exit = %d, want %d", c.args, got, c.want)
		}
	}
}

func TestStartHealthServesHealthzUntilStopped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	stop, err := startHealth(addr, ops, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := probe(context.Background(), "http://"+addr+"/healthz"); err != nil {
		t.Fatalf("healthz while up: %v", err)
	}
	if err := probe(context.Background(), "http://"+addr+"/nothing"); err == nil {
		t.Fatal("an unknown path answered 2xx")
	}
	stop()
	if err := probe(context.Background(), "http://"+addr+"/healthz"); err == nil {
		t.Fatal("healthz answered after stop")
	}
}

func TestStartHealthWithNoAddressServesNothing(t *testing.T) {
	stop, err := startHealth("", http.NotFoundHandler(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	stop()
}
