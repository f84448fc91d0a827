package loadcheck

import (
	"context"
	"errors"
	"fmt"
)

// Prepared is a follower graph loaded into a stack: every account signed
// up and every follow applied, ready for a benchmark to drive.
type Prepared struct {
	Graph   *Graph
	Handles []string // per account
	Tokens  []string // per account; "" when its signup failed
	// Follows is how many follows got an ok reply; Errors counts failed
	// requests by code.
	Follows int
	Errors  map[string]int
}

// Prepare signs up every account of cfg's graph and applies every follow,
// the first phases of Run, without posting or checking. cfg.K, Likes and
// Online are ignored. It fails when no account could sign up or ctx ends.
func Prepare(ctx context.Context, cfg Config) (*Prepared, error) {
	ctx, r, err := newRunner(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.abort(nil)
	r.log.Info("prepare", "prefix", r.prefix, "accounts", r.graph.N, "edges", len(r.graph.Edges), "url", r.cfg.URL)
	r.phaseSignup(ctx)
	if r.report.Accounts == 0 {
		return nil, errors.New("prepare: no account could sign up")
	}
	r.phaseFollow(ctx)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("prepare: %w", context.Cause(ctx))
	}
	handles := make([]string, r.graph.N)
	for a := range handles {
		handles[a] = r.model.Handle(a)
	}
	return &Prepared{
		Graph: r.graph, Handles: handles, Tokens: r.tokens,
		Follows: r.report.Edges, Errors: r.errors.Counts(),
	}, nil
}
