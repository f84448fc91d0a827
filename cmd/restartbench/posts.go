package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"chirp/cmd/loadcheck"
	"chirp/cmd/stack"
)

// postsConfig shapes one posts/s measurement.
type postsConfig struct {
	Conns    int           // concurrent connections, one account each, one request in flight each
	Follows  int           // each account follows the next Follows accounts (fan-out)
	Warmup   time.Duration // posting before the clock starts
	Duration time.Duration // measured posting
}

// postsResult is one measurement.
type postsResult struct {
	SyncAlways bool
	Posts      int // ok replies within the measured window
	Errors     int
	Took       time.Duration
	P50, P99   time.Duration
}

func (r postsResult) rate() float64 {
	if r.Took <= 0 {
		return 0
	}
	return float64(r.Posts) / r.Took.Seconds()
}

const benchPassword = "restartbench-password"

// benchPosts starts the whole stack in-process on a fresh data folder
// under dir, signs up cfg.Conns accounts over WebSocket, makes them follow
// each other, and posts as fast as the replies come back.
func benchPosts(ctx context.Context, dir string, syncAlways bool, cfg postsConfig, log *slog.Logger) (postsResult, error) {
	res := postsResult{SyncAlways: syncAlways}
	data, err := os.MkdirTemp(dir, "posts-")
	if err != nil {
		return res, fmt.Errorf("data folder: %w", err)
	}
	defer os.RemoveAll(data)
	st, err := stack.Start(ctx, stack.Config{
		HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: filepath.Join(data, "stack"),
		SyncAlways: syncAlways, BcryptCost: 4, Log: log,
	})
	if err != nil {
		return res, fmt.Errorf("start stack: %w", err)
	}
	defer st.Close()
	url := "ws://" + st.HTTPAddr + "/ws"

	conns := make([]*loadcheck.Conn, cfg.Conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		c, err := loadcheck.Dial(ctx, url)
		if err != nil {
			return res, err
		}
		conns[i] = c
		if _, err := do(ctx, c, "signup", map[string]any{"handle": benchHandle(i), "password": benchPassword}); err != nil {
			return res, err
		}
	}
	for i, c := range conns {
		for k := 1; k <= cfg.Follows && k < cfg.Conns; k++ {
			if _, err := do(ctx, c, "follow", map[string]any{"handle": benchHandle((i + k) % cfg.Conns)}); err != nil {
				return res, err
			}
		}
	}

	begin := time.Now().Add(cfg.Warmup)
	end := begin.Add(cfg.Duration)
	lat := make([][]time.Duration, cfg.Conns)
	errs := make([]int, cfg.Conns)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				sent := time.Now()
				if !sent.Before(end) || ctx.Err() != nil {
					return
				}
				_, err := do(ctx, c, "post", map[string]any{"text": "bench post " + strconv.Itoa(n) + " by " + benchHandle(i)})
				done := time.Now()
				if done.Before(begin) || !done.Before(end) {
					continue
				}
				if err != nil {
					errs[i]++
					continue
				}
				lat[i] = append(lat[i], done.Sub(sent))
			}
		}()
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Posts = len(all) // replies that arrived within [begin, end)
	for _, e := range errs {
		res.Errors += e
	}
	res.Took = cfg.Duration
	res.P50, res.P99 = percentile(all, 0.50), percentile(all, 0.99)
	return res, nil
}

func benchHandle(i int) string { return "bench" + strconv.Itoa(i) }

// do sends one request with a 10 s deadline.
func do(ctx context.Context, c *loadcheck.Conn, op string, fields map[string]any) (loadcheck.Reply, error) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := c.Do(rctx, op, fields)
	if err != nil {
		return r, fmt.Errorf("%s: %w", op, err)
	}
	return r, nil
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
