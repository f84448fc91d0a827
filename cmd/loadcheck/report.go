package loadcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// PhaseTime is how long one phase took.
type PhaseTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Report is the outcome of a run.
type Report struct {
	URL             string `json:"url"`
	Graph           string `json:"graph"`
	Undirected      bool   `json:"undirected"`
	Seed            uint64 `json:"seed"`
	Prefix          string `json:"prefix"`
	K               int    `json:"k"`
	LikesPerAccount int    `json:"likes_per_account"`
	Concurrency     int    `json:"concurrency"`
	GraphAccounts   int    `json:"graph_accounts"`
	GraphEdges      int    `json:"graph_edges"`

	Accounts     int         `json:"accounts"` // signed up
	Edges        int         `json:"edges"`    // follows accepted
	Posts        int         `json:"posts"`
	Likes        int         `json:"likes"`
	Online       int         `json:"online"`
	PushesTweet  int         `json:"pushes_tweet"`
	PushesLikes  int         `json:"pushes_likes"`
	PushesOther  int         `json:"pushes_other"`
	Settled      bool        `json:"settled"`
	Phases       []PhaseTime `json:"phases"`
	PostsPerSec  float64     `json:"posts_per_sec"`
	FeedsChecked int         `json:"feeds_checked"`
	FeedsReread  int         `json:"feeds_reread"` // feeds that matched only after re-reading
	Skipped      int         `json:"skipped"`      // actions not attempted because their account had no token

	Errors           map[string]int `json:"errors"`             // failed requests by code
	ErrorsByOp       map[string]int `json:"errors_by_op"`       // "op/code"
	ErrorExamples    []string       `json:"error_examples"`     //
	RateLimitRetries int            `json:"rate_limit_retries"` // rate_limited answers retried
	ProtocolErrors   int            `json:"protocol_errors"`    // frames the client could not use
	ProtocolExamples []string       `json:"protocol_examples"`  //
	ReplyMismatches  map[string]int `json:"reply_mismatches"`   // ok replies contradicting the contract, by op
	ReplyExamples    []string       `json:"reply_examples"`     //
	FeedMismatches   map[string]int `json:"feed_mismatches"`    // by kind
	FeedExamples     []string       `json:"feed_examples"`      //
	PushMismatches   map[string]int `json:"push_mismatches"`    // by kind
	PushExamples     []string       `json:"push_examples"`      //
	Aborted          string         `json:"aborted,omitempty"`  // why the run stopped early
	OK               bool           `json:"ok"`                 //
	Verdict          string         `json:"verdict"`            // one line
	Failures         []string       `json:"failures,omitempty"` // reasons OK is false
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// judge sets OK, Failures and Verdict.
func (r *Report) judge() {
	r.Failures = nil
	fail := func(format string, args ...any) { r.Failures = append(r.Failures, fmt.Sprintf(format, args...)) }
	if r.Aborted != "" {
		fail("run aborted: %s", r.Aborted)
	}
	if n := sum(r.Errors); n > 0 {
		fail("%d request errors", n)
	}
	if r.ProtocolErrors > 0 {
		fail("%d protocol errors", r.ProtocolErrors)
	}
	if n := sum(r.ReplyMismatches); n > 0 {
		fail("%d reply mismatches", n)
	}
	if n := sum(r.FeedMismatches); n > 0 {
		fail("%d feed mismatches", n)
	}
	if n := sum(r.PushMismatches); n > 0 {
		fail("%d push mismatches", n)
	}
	if r.Skipped > 0 {
		fail("%d actions skipped for accounts without a token", r.Skipped)
	}
	if r.FeedsChecked < r.Accounts {
		fail("only %d of %d feeds checked", r.FeedsChecked, r.Accounts)
	}
	r.OK = len(r.Failures) == 0
	if r.OK {
		r.Verdict = fmt.Sprintf("PASS: %d feeds and %d online sockets match the model", r.FeedsChecked, r.Online)
	} else {
		r.Verdict = "FAIL: " + strings.Join(r.Failures, "; ")
	}
}

// ExitCode is 0 when the run passed and 1 otherwise.
func (r *Report) ExitCode() int {
	if r.OK {
		return 0
	}
	return 1
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("chirp load: %s\n", r.URL)
	p("  graph      %s (%d accounts, %d edges, undirected=%t)\n", r.Graph, r.GraphAccounts, r.GraphEdges, r.Undirected)
	p("  seed %d  prefix %s  k=%d  likes/account=%d  c=%d\n", r.Seed, r.Prefix, r.K, r.LikesPerAccount, r.Concurrency)
	p("  accounts   %d signed up\n", r.Accounts)
	p("  edges      %d follows\n", r.Edges)
	p("  posts      %d (%.1f posts/s)\n", r.Posts, r.PostsPerSec)
	p("  likes      %d\n", r.Likes)
	p("  online     %d sockets; pushes received: %d tweet, %d likes, %d other; settled=%t\n",
		r.Online, r.PushesTweet, r.PushesLikes, r.PushesOther, r.Settled)
	p("  feeds      %d checked (%d matched only after re-reading)\n", r.FeedsChecked, r.FeedsReread)
	p("  phases    ")
	for _, ph := range r.Phases {
		p(" %s %.2fs", ph.Name, ph.Seconds)
	}
	p("\n")
	if r.RateLimitRetries > 0 {
		p("  rate_limited answers retried: %d\n", r.RateLimitRetries)
	}
	section := func(title string, counts map[string]int, examples []string) {
		if sum(counts) == 0 && len(examples) == 0 {
			p("  %-16s none\n", title)
			return
		}
		p("  %-16s %d:", title, sum(counts))
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			p(" %s=%d", k, counts[k])
		}
		p("\n")
		for _, e := range examples {
			p("      %s\n", e)
		}
	}
	section("request errors", r.Errors, r.ErrorExamples)
	if len(r.ErrorsByOp) > 0 {
		section("  by op", r.ErrorsByOp, nil)
	}
	section("protocol errors", map[string]int{"frames": r.ProtocolErrors}, r.ProtocolExamples)
	section("reply mismatches", r.ReplyMismatches, r.ReplyExamples)
	section("feed mismatches", r.FeedMismatches, r.FeedExamples)
	section("push mismatches", r.PushMismatches, r.PushExamples)
	p("%s\n", r.Verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
