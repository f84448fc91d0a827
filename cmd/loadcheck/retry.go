package loadcheck

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// ErrGaveUp wraps the last error of a request whose outcome stayed unknown
// until the caller's context ended: it may or may not have been applied.
var ErrGaveUp = errors.New("outcome unknown")

// DoID is Do with a request id chosen by the caller, so that a request can
// be sent again with the same id after its reply was lost. The id must not
// be in flight on c already.
func (c *Conn) DoID(ctx context.Context, id, op string, fields map[string]any) (Reply, error) {
	return c.roundTrip(ctx, id, op, fields, false)
}

// OutcomeUnknown reports whether err leaves a request's outcome unknown, so
// the request must be sent again with the same id: the connection broke,
// the reply did not come in time, or the server answered unavailable,
// internal or rate_limited. Any other server error is a definite answer.
func OutcomeUnknown(err error) bool {
	if err == nil {
		return false
	}
	var se *ServerError
	if errors.As(err, &se) {
		switch se.Code {
		case "unavailable", "internal", "rate_limited":
			return true
		}
		return false
	}
	return true
}

// Account is who a Retrier acts as: Token for auth, or Handle and Password
// for login when there is no token yet.
type Account struct {
	Handle, Password, Token string
}

// RetryStats counts what a Retrier had to do to get definite answers.
type RetryStats struct {
	Retries    atomic.Int64 // requests sent again after an unknown outcome
	Dials      atomic.Int64 // connections opened
	DialErrors atomic.Int64 // dials that failed
	Reauths    atomic.Int64 // auth requests sent
	Failovers  atomic.Int64 // moves to the next URL after a failed dial or a dropped connection
}

// Retrier is one client connection that survives crashes of the stack
// behind it: a request whose outcome is unknown is sent again, with the
// same id and fields, on the same or a new connection (re-authenticated as
// the same account) until a definite answer arrives or the context ends.
// With several URLs (gateways of one stack) it starts on the first and
// moves to the next after a failed dial or a connection the server
// dropped, so the clients of a gateway that went away carry on through
// another. It is used by one goroutine at a time.
type Retrier struct {
	URLs    []string      // tried in turn, from URLs[0]
	Timeout time.Duration // per try; a try that times out drops the connection
	Stats   *RetryStats   // shared by many Retriers; nil keeps none
	// OnRetry, when set, is called before each resend with the error that
	// left the previous try's outcome unknown.
	OnRetry func(id, op string, try int, err error)

	conn   *Conn
	acting string // handle the connection acts as, "" for none
	cur    int    // index in URLs of the URL to dial
	rng    *rand.Rand
}

// NewRetrier returns a Retrier for urls (at least one) with a per-try
// timeout.
func NewRetrier(urls []string, timeout time.Duration, stats *RetryStats) *Retrier {
	if stats == nil {
		stats = &RetryStats{}
	}
	return &Retrier{URLs: urls, Timeout: timeout, Stats: stats, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// URL returns the URL the Retrier dials next, or is connected to.
func (r *Retrier) URL() string { return r.URLs[r.cur] }

// failover moves to the next URL, if there is another.
func (r *Retrier) failover() {
	if len(r.URLs) > 1 {
		r.cur = (r.cur + 1) % len(r.URLs)
		r.Stats.Failovers.Add(1)
	}
}

// Close drops the connection.
func (r *Retrier) Close() {
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	r.acting = ""
}

// Do sends {"id":id,"op":op,...fields} as acct until the answer is
// definite. Ops signup and login authenticate by themselves; any other op
// is preceded by auth with acct.Token whenever the connection does not act
// as acct yet. It returns the reply and nil, or a *ServerError for a
// definite rejection, or an error wrapping ErrGaveUp when ctx ended first.
func (r *Retrier) Do(ctx context.Context, acct Account, id, op string, fields map[string]any) (Reply, error) {
	backoff := 50 * time.Millisecond
	var last error
	for try := 0; ; try++ {
		if try > 0 {
			r.Stats.Retries.Add(1)
			if r.OnRetry != nil {
				r.OnRetry(id, op, try, last)
			}
			if sleepCtx(ctx, backoff/2+time.Duration(r.rng.Int64N(int64(backoff)))) != nil {
				return Reply{}, fmt.Errorf("%s %s: %w after %d tries: %w", op, id, ErrGaveUp, try, last)
			}
			backoff = min(2*backoff, time.Second)
		}
		if ctx.Err() != nil {
			return Reply{}, fmt.Errorf("%s %s: %w after %d tries: %w", op, id, ErrGaveUp, try, cmpErr(last, ctx.Err()))
		}
		if err := r.ready(ctx, acct, op); err != nil {
			if !OutcomeUnknown(err) || errors.Is(err, errNotAuthed) {
				return Reply{}, err
			}
			last = err
			continue
		}
		tctx, cancel := context.WithTimeout(ctx, r.Timeout)
		rep, err := r.conn.DoID(tctx, id, op, fields)
		cancel()
		if err == nil {
			if op == "signup" || op == "login" {
				r.acting = acct.Handle
			}
			return rep, nil
		}
		if !OutcomeUnknown(err) {
			return rep, err
		}
		last = err
		var se *ServerError
		if !errors.As(err, &se) {
			dropped := r.conn.Err() != nil // the server side went away, not just slow
			r.Close()                      // broken or stuck: a late reply must not meet the resend
			if dropped {
				r.failover()
			}
		}
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ready dials when there is no connection and authenticates as acct when
// op needs it and the connection acts as someone else: with auth and
// acct.Token, or with login when there is no token. Its error is an
// unknown outcome (try again) unless it is a *ServerError or errNotAuthed.
func (r *Retrier) ready(ctx context.Context, acct Account, op string) error {
	if r.conn != nil && r.conn.Err() != nil {
		r.Close()
		r.failover()
	}
	if r.conn == nil {
		r.Stats.Dials.Add(1)
		dctx, cancel := context.WithTimeout(ctx, r.Timeout)
		c, err := Dial(dctx, r.URL())
		cancel()
		if err != nil {
			r.Stats.DialErrors.Add(1)
			r.failover()
			return err
		}
		r.conn, r.acting = c, ""
	}
	if op == "signup" || op == "login" || r.acting == acct.Handle {
		return nil
	}
	r.Stats.Reauths.Add(1)
	authOp, fields := "auth", map[string]any{"token": acct.Token}
	if acct.Token == "" {
		authOp, fields = "login", map[string]any{"handle": acct.Handle, "password": acct.Password}
	}
	tctx, cancel := context.WithTimeout(ctx, r.Timeout)
	rep, err := r.conn.Do(tctx, authOp, fields)
	cancel()
	if err != nil {
		var se *ServerError
		if !errors.As(err, &se) {
			dropped := r.conn.Err() != nil
			r.Close()
			if dropped {
				r.failover()
			}
		}
		return err
	}
	var u struct {
		Handle string `json:"handle"`
	}
	if err := rep.Decode("user", &u); err != nil || u.Handle != acct.Handle {
		return fmt.Errorf("%w: %s as %s: reply names %q (%v)", errNotAuthed, authOp, acct.Handle, u.Handle, err)
	}
	r.acting = acct.Handle
	return nil
}

// errNotAuthed marks an auth or login that succeeded as someone else: a
// definite failure, not worth retrying.
var errNotAuthed = errors.New("authenticated as the wrong account")
