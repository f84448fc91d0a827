package loadcheck

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRetrierResendsSameRequestUntilDefinite drives a Retrier through a
// hang-up, an unavailable answer and a silent server: every try carries the
// same id and fields, each new connection is authenticated first, and the
// definite answer ends the loop.
func TestRetrierResendsSameRequestUntilDefinite(t *testing.T) {
	var mu sync.Mutex
	var log []string
	posts := 0
	url := scriptServer(t, func(req map[string]any) []string {
		mu.Lock()
		defer mu.Unlock()
		id, _ := req["id"].(string)
		op, _ := req["op"].(string)
		log = append(log, fmt.Sprintf("%s %s %v", op, id, req["text"]))
		switch op {
		case "auth":
			return []string{`{"re":"` + id + `","ok":true,"user":{"handle":"ann"}}`}
		case "post":
			posts++
			switch posts {
			case 1:
				return []string{"CLOSE"}
			case 2:
				return []string{`{"re":"` + id + `","ok":false,"error":{"code":"unavailable","message":"later"}}`}
			case 3:
				return nil // never answered: the try times out
			}
			return []string{`{"re":"` + id + `","ok":true,"tweet":{"id":"t1"}}`}
		}
		return []string{"CLOSE"}
	})
	r := NewRetrier([]string{url}, 200*time.Millisecond, nil)
	defer r.Close()
	var retried []int
	r.OnRetry = func(id, op string, try int, err error) { retried = append(retried, try) }
	acct := Account{Handle: "ann", Token: "tok"}
	rep, err := r.Do(context.Background(), acct, "ann-1", "post", map[string]any{"text": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	var tw Tweet
	if err := rep.Decode("tweet", &tw); err != nil || tw.ID != "t1" {
		t.Errorf("tweet = %+v (%v), want id t1", tw, err)
	}
	mu.Lock()
	defer mu.Unlock()
	var want []string
	for i := range 4 {
		if i != 2 { // the unavailable answer keeps the connection and its auth
			want = append(want, "auth 1 <nil>")
		}
		want = append(want, "post ann-1 hello")
	}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Errorf("server saw\n%q\nwant\n%q", log, want)
	}
	if fmt.Sprint(retried) != "[1 2 3]" {
		t.Errorf("OnRetry tries = %v, want [1 2 3]", retried)
	}
	if n := r.Stats.Retries.Load(); n != 3 {
		t.Errorf("Stats.Retries = %d, want 3", n)
	}
}

// TestRetrierReturnsDefiniteRejection checks that a rejection other than
// unavailable is returned at once, and that a context ending first gives
// ErrGaveUp.
func TestRetrierReturnsDefiniteRejection(t *testing.T) {
	url := scriptServer(t, func(req map[string]any) []string {
		id, _ := req["id"].(string)
		switch req["op"] {
		case "auth":
			return []string{`{"re":"` + id + `","ok":true,"user":{"handle":"ann"}}`}
		case "like":
			return []string{`{"re":"` + id + `","ok":false,"error":{"code":"not_found","message":"no such tweet"}}`}
		case "post":
			return []string{`{"re":"` + id + `","ok":false,"error":{"code":"unavailable","message":"later"}}`}
		}
		return []string{"CLOSE"}
	})
	r := NewRetrier([]string{url}, time.Second, nil)
	defer r.Close()
	acct := Account{Handle: "ann", Token: "tok"}
	_, err := r.Do(context.Background(), acct, "ann-1", "like", map[string]any{"tweet": "x"})
	var se *ServerError
	if !errors.As(err, &se) || se.Code != "not_found" || r.Stats.Retries.Load() != 0 {
		t.Errorf("like: err = %v, retries %d; want not_found at once", err, r.Stats.Retries.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = r.Do(ctx, acct, "ann-2", "post", map[string]any{"text": "hi"})
	if !errors.Is(err, ErrGaveUp) || OutcomeUnknown(nil) {
		t.Errorf("post: err = %v, want ErrGaveUp", err)
	}
}

// TestRetrierFailsOverToTheNextGateway has a first gateway drop the
// connection on a post: the resend, with the same id, goes to the second
// gateway after an auth there. A URL that refuses connections is skipped.
func TestRetrierFailsOverToTheNextGateway(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	gateway := func(name string, hangUp bool) string {
		return scriptServer(t, func(req map[string]any) []string {
			id, _ := req["id"].(string)
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s %s %s", name, req["op"], id))
			mu.Unlock()
			switch {
			case req["op"] == "auth":
				return []string{`{"re":"` + id + `","ok":true,"user":{"handle":"ann"}}`}
			case hangUp:
				return []string{"CLOSE"}
			}
			return []string{`{"re":"` + id + `","ok":true,"tweet":{"id":"t1"}}`}
		})
	}
	gw1, gw2 := gateway("gw1", true), gateway("gw2", false)
	r := NewRetrier([]string{gw1, gw2}, time.Second, nil)
	defer r.Close()
	acct := Account{Handle: "ann", Token: "tok"}
	if _, err := r.Do(context.Background(), acct, "ann-1", "post", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := fmt.Sprint(seen)
	mu.Unlock()
	if want := "[gw1 auth 1 gw1 post ann-1 gw2 auth 1 gw2 post ann-1]"; got != want {
		t.Errorf("gateways saw %s, want %s", got, want)
	}
	if r.URL() != gw2 || r.Stats.Failovers.Load() != 1 {
		t.Errorf("after the hang-up: URL %s, failovers %d; want %s, 1", r.URL(), r.Stats.Failovers.Load(), gw2)
	}

	dead := "ws://127.0.0.1:1/ws" // nothing listens on port 1
	r2 := NewRetrier([]string{dead, gw2}, time.Second, nil)
	defer r2.Close()
	if _, err := r2.Do(context.Background(), acct, "ann-2", "post", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	if r2.URL() != gw2 || r2.Stats.DialErrors.Load() != 1 {
		t.Errorf("with a dead first URL: URL %s, dial errors %d; want %s, 1", r2.URL(), r2.Stats.DialErrors.Load(), gw2)
	}
}

func TestOutcomeUnknown(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("post: %w", ErrClosed), true},
		{context.DeadlineExceeded, true},
		{&ServerError{Op: "post", ErrorInfo: ErrorInfo{Code: "unavailable"}}, true},
		{&ServerError{Op: "post", ErrorInfo: ErrorInfo{Code: "internal"}}, true},
		{&ServerError{Op: "post", ErrorInfo: ErrorInfo{Code: "invalid"}}, false},
		{&ServerError{Op: "signup", ErrorInfo: ErrorInfo{Code: "conflict"}}, false},
	} {
		if got := OutcomeUnknown(tc.err); got != tc.want {
			t.Errorf("OutcomeUnknown(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}
