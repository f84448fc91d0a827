package stack_test

import (
	"testing"
	"time"

	"chirp/cmd/stack"
	"chirp/services/loop"
)

// A snapshot policy set on the stack reaches every world: with a snapshot
// every 2 inputs and an hour between timed ones, two signups, a
// follow and two posts make the user, tweet and feed worlds store one well within the test,
// where the default (10,000 inputs or 30 s) stores none.
func TestSnapshotPolicyReachesEveryWorld(t *testing.T) {
	s := runStack(t, func(c *stack.Config) {
		c.Snapshots = loop.SnapshotPolicy{Every: 2, Interval: time.Hour}
	})
	base := "http://" + s.HTTPAddr
	url := "ws://" + s.HTTPAddr + "/ws"
	alice := signup(t, url, "snap")
	bob := signup(t, url, "snapped")
	alice.follow(bob.handle)
	alice.post("first")
	alice.post("second")

	var checks []check
	for _, svc := range []string{"user", "tweet", "feed"} {
		checks = append(checks, newCheck("chirp_snapshot_age_seconds", map[string]string{"service": svc, "partition": "0"}, atLeast, 0))
	}
	waitMetrics(t, base, checks)
}
