package loadcheck

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

const (
	maxRateLimitRetries = 5
	defaultRetryAfter   = 200 * time.Millisecond
	maxRetryAfter       = 5 * time.Second
)

// errorCode classifies a failed request: the server's error code, or
// timeout / canceled / transport.
func errorCode(err error) string {
	var se *ServerError
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "transport"
	}
}

// worker is one pooled connection that switches between accounts. It is
// used by one goroutine at a time. After a transport failure or timeout it
// drops the connection and dials afresh on the next request.
type worker struct {
	r    *runner
	conn *Conn
	as   int // account the connection acts as, -1 for none
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
	w.as = -1
}

// do sends one request, dialing first if needed, and retries rate_limited
// answers after the advised delay. Every failure is recorded on the runner.
func (w *worker) do(ctx context.Context, op string, fields map[string]any) (Reply, error) {
	for attempt := 0; ; attempt++ {
		if w.conn == nil {
			dctx, cancel := context.WithTimeout(ctx, w.r.cfg.Timeout)
			c, err := Dial(dctx, w.r.cfg.URL)
			cancel()
			if err != nil {
				w.r.dialFailed(err)
				return Reply{}, err
			}
			w.r.dialFails.Store(0)
			c.OnProtocolError(w.r.protocolError)
			w.conn, w.as = c, -1
		}
		rctx, cancel := context.WithTimeout(ctx, w.r.cfg.Timeout)
		rep, err := w.conn.Do(rctx, op, fields)
		cancel()
		if err == nil {
			return rep, nil
		}
		var se *ServerError
		if errors.As(err, &se) {
			if se.Code == "rate_limited" && attempt < maxRateLimitRetries {
				w.r.rateLimitRetries.Add(1)
				if sleepCtx(ctx, retryDelay(se.RetryAfterMs)) != nil {
					return rep, ctx.Err()
				}
				continue
			}
		} else {
			w.close() // broken or stuck: start afresh next time
		}
		w.r.requestError(op, err)
		return rep, err
	}
}

func retryDelay(ms int64) time.Duration {
	d := time.Duration(ms) * time.Millisecond
	if d <= 0 {
		d = defaultRetryAfter
	}
	return min(d, maxRetryAfter)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// actAs makes the connection act as account a, sending auth with its token
// unless it already does.
func (w *worker) actAs(ctx context.Context, a int) error {
	if w.as == a && w.conn != nil {
		return nil
	}
	rep, err := w.do(ctx, "auth", map[string]any{"token": w.r.tokens[a]})
	if err != nil {
		return err
	}
	w.as = a
	w.r.checkUser("auth", rep, a)
	return nil
}

// parallel runs fn(ctx, w, i) for i in 0..n-1 on cfg.Concurrency workers,
// each with its own connection, logging progress now and then.
func (r *runner) parallel(ctx context.Context, phase string, n int, fn func(ctx context.Context, w *worker, i int)) {
	var next, done atomic.Int64
	workers := min(r.cfg.Concurrency, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			w := &worker{r: r, as: -1}
			defer w.close()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(ctx, w, i)
				done.Add(1)
			}
		})
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.log.Info("progress", "phase", phase, "done", done.Load(), "of", n, "errors", r.errors.Total())
			}
		}
	}()
	wg.Wait()
	close(stop)
}

// dialFailed counts a failed dial and aborts the run once so many dials in a
// row have failed that the stack is evidently gone.
func (r *runner) dialFailed(err error) {
	r.requestError("dial", err)
	limit := int64(max(20, 2*r.cfg.Concurrency))
	if n := r.dialFails.Add(1); n == limit {
		r.abort(fmt.Errorf("stack unreachable: %d dials in a row failed, the last with: %w", n, err))
	}
}

// requestError counts a failed request by code and by op.
func (r *runner) requestError(op string, err error) {
	code := errorCode(err)
	r.errors.Add(code, fmt.Sprintf("%s: %v", op, err))
	r.errorsByOp.Add(op+"/"+code, "")
}

func (r *runner) protocolError(err error) {
	r.protocol.Add("protocol", err.Error())
}

// replyMismatch counts an ok reply whose content contradicts the contract or the model.
func (r *runner) replyMismatch(op, format string, args ...any) {
	r.replies.Add(op, fmt.Sprintf(format, args...))
}

// checkUser checks that a signup/login/auth reply names account a.
func (r *runner) checkUser(op string, rep Reply, a int) {
	var u struct {
		Handle string `json:"handle"`
	}
	if err := rep.Decode("user", &u); err != nil {
		r.replyMismatch(op, "%v", err)
		return
	}
	if u.Handle != r.model.Handle(a) {
		r.replyMismatch(op, "reply names user %q, want %q", u.Handle, r.model.Handle(a))
	}
}
