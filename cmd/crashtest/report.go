package crashtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Summary is everything one crash run reports.
type Summary struct {
	Seed     uint64
	Out      string // logs and data
	Graph    string
	Accounts int
	Edges    int
	MinPosts int
	Load     *Load
	Chaos    *Chaos
	Restarts map[string]int // runs started per process, the first included
	Exits    []string       // unexpected exits
	Result   *Result
	Total    time.Duration
	NotReady string // the stack was not all up before the check
	Aborted  string // the run's context ended early
}

// Problems lists why the run fails; empty means it passed.
func (s *Summary) Problems() []string {
	var out []string
	if s.Aborted != "" {
		out = append(out, "aborted: "+s.Aborted)
	}
	if s.NotReady != "" {
		out = append(out, "stack not ready for the check: "+s.NotReady)
	}
	if !s.Chaos.Covered() {
		out = append(out, fmt.Sprintf("not every process was killed: %s", s.killedCounts()))
	}
	return append(out, s.Load.Problems(s.MinPosts, s.Result)...)
}

// Problems lists why a load and its check res fail: too few posts
// acknowledged, valid requests rejected, ok replies that contradict the
// model, mismatches in the final state (res nil: not checked).
func (l *Load) Problems(minPosts int, res *Result) []string {
	var out []string
	if n := l.Counts[cPost].Load(); n < int64(minPosts) {
		out = append(out, fmt.Sprintf("only %d posts acknowledged, want at least %d", n, minPosts))
	}
	if n := l.Rejections.Total(); n > 0 {
		out = append(out, fmt.Sprintf("%d valid requests rejected", n))
	}
	if n := l.Replies.Total(); n > 0 {
		out = append(out, fmt.Sprintf("%d ok replies contradict the contract or the model", n))
	}
	if res == nil {
		out = append(out, "the final state was not checked")
	} else if n := res.Findings.Total(); n > 0 {
		out = append(out, fmt.Sprintf("%d mismatches in the final state", n))
	}
	return out
}

func (s *Summary) killedCounts() string {
	n := make(map[string]int)
	for _, k := range s.Chaos.Kills() {
		n[k.Target]++
	}
	var parts []string
	for _, t := range s.Chaos.Targets {
		parts = append(parts, fmt.Sprintf("%s %d", t, n[t]))
	}
	return strings.Join(parts, ", ")
}

// Text renders the summary.
func (s *Summary) Text() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	l := s.Load
	p("crash test: seed %d (rerun: CHIRP_CRASH=1 CHIRP_CRASH_SEED=%d), %.1fs, output in %s", s.Seed, s.Seed, s.Total.Seconds(), s.Out)
	p("graph %s: %d accounts, %d edges", s.Graph, s.Accounts, s.Edges)
	l.WriteSummary(&b)
	p("kills (%s):", s.killedCounts())
	for _, k := range s.Chaos.Kills() {
		p("  %s", k)
	}
	p("process starts: %v", s.Restarts)
	if len(s.Exits) > 0 {
		p("unexpected exits (restarted by the supervisor):")
		for _, e := range s.Exits {
			p("  %s", e)
		}
	}
	if r := s.Result; r != nil {
		r.WriteSummary(&b)
		s.blame(&b, "duplicated posts", r.DupPosts, func(pr *PostRec) (time.Duration, time.Duration) {
			return pr.SentAt, pr.FirstErrAt
		})
		s.blame(&b, "lost posts", r.LostPosts, func(pr *PostRec) (time.Duration, time.Duration) {
			return pr.DoneAt, pr.DoneAt + 30*time.Second
		})
	}
	if probs := s.Problems(); len(probs) > 0 {
		p("FAIL:")
		for _, pr := range probs {
			p("  %s", pr)
		}
	} else {
		p("PASS: 0 lost, 0 duplicated, like counts exact, every ok reply reflected")
	}
	return b.String()
}

// WriteSummary writes what the load did: counts by outcome, retries,
// dials, phase times, rejected valid requests and contradicting replies.
func (l *Load) WriteSummary(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("load:")
	for _, k := range slices.Sorted(maps.Keys(l.Counts)) {
		if v := l.Counts[k].Load(); v > 0 || !strings.HasPrefix(k, cUnknownPrefix) {
			p("  %-50s %d", k, v)
		}
	}
	l.mu.Lock()
	retries := maps.Clone(l.retriesByOp)
	l.mu.Unlock()
	p("  retries %d %v, dials %d (%d failed), re-authentications %d, gateway failovers %d",
		l.Stats.Retries.Load(), retries, l.Stats.Dials.Load(), l.Stats.DialErrors.Load(), l.Stats.Reauths.Load(), l.Stats.Failovers.Load())
	var phases []string
	for _, ph := range l.Phases {
		phases = append(phases, fmt.Sprintf("%s %.1fs", ph.Name, ph.Seconds))
	}
	p("  phases: %s", strings.Join(phases, ", "))
	tally(b, "rejected valid requests", l.Rejections.Counts(), l.Rejections.Examples())
	tally(b, "ok replies that contradict the model", l.Replies.Counts(), l.Replies.Examples())
}

// WriteSummary writes what the check read and found.
func (r *Result) WriteSummary(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("check: %d feeds, %d tweets read, %d matched only after re-reading, %.1fs", r.FeedsChecked, r.TweetsRead, r.FeedsReread, r.Seconds)
	p("  posts with unknown outcome: %d (%d of them stored once, the rest not at all)", r.UnknownPosts, r.UnknownSeen)
	p("  lost posts: %d, duplicated posts: %d", len(r.LostPosts), len(r.DupPosts))
	tally(b, "mismatches", r.Findings.Counts(), r.Findings.Examples())
	for _, pr := range append(r.LostPosts[:min(5, len(r.LostPosts)):min(5, len(r.LostPosts))], r.DupPosts[:min(5, len(r.DupPosts))]...) {
		p("  post %s %q: sent %.2fs, %d tries, first lost reply %.2fs (%s), acknowledged as %s at %.2fs",
			pr.ReqID, pr.Text, pr.SentAt.Seconds(), pr.Tries, pr.FirstErrAt.Seconds(), pr.FirstErr, pr.ID, pr.DoneAt.Seconds())
	}
}

// WriteSummary writes what the push check counted and found.
func (r *PushResult) WriteSummary(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("pushes to %d watched accounts: %d tweet and %d likes pushes, %d sockets, %d resumes with since, %d seq jumps repaired by a resume, %.1fs",
		r.Accounts, r.TweetPushes, r.LikesPushes, r.Connects, r.Resumes, r.SeqJumps, r.Seconds)
	tally(b, "push mismatches", r.Findings.Counts(), r.Findings.Examples())
}

func tally(b *strings.Builder, title string, counts map[string]int, examples []string) {
	if len(counts) == 0 {
		fmt.Fprintf(b, "%s: none\n", title)
		return
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	fmt.Fprintf(b, "%s: %s\n", title, strings.Join(parts, ", "))
	for _, e := range examples {
		fmt.Fprintf(b, "  e.g. %s\n", e)
	}
}

// blame prints, for up to 10 posts, the kills in the post's window, and a
// count of posts per kill target.
func (s *Summary) blame(b *strings.Builder, title string, posts []*PostRec, window func(*PostRec) (time.Duration, time.Duration)) {
	if len(posts) == 0 {
		return
	}
	by := make(map[string]int)
	for i, pr := range posts {
		from, to := window(pr)
		ks := s.Chaos.Blame(from, to, 2*time.Second)
		var names []string
		for _, k := range ks {
			names = append(names, fmt.Sprintf("%s@%.2fs", k.Target, k.At.Seconds()))
			by[k.Target]++
		}
		if len(ks) == 0 {
			by["(no kill in window)"]++
		}
		if i < 10 {
			fmt.Fprintf(b, "  %s: %s %q sent %.2fs, first lost reply %.2fs (%s), done %.2fs after %d tries; kills in window: %v\n",
				title, pr.ReqID, pr.Text, pr.SentAt.Seconds(), pr.FirstErrAt.Seconds(), pr.FirstErr, pr.DoneAt.Seconds(), pr.Tries, names)
		}
	}
	fmt.Fprintf(b, "  %s by kill in window: %v\n", title, by)
}
