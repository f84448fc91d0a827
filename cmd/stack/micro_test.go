package stack_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chirp/cmd/stack"
	"chirp/natskit"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// What `nats micro ls`, `info` and `stats` show comes from the micro
// discovery subjects; the test asks them directly, as the CLI does, as the
// operator user of the embedded NATS.

// discover sends a request to subject and gathers every reply that comes
// within a short quiet period after the last, until want replies came.
func discover[T any](t *testing.T, nc *nats.Conn, subject string, want int) []T {
	t.Helper()
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		t.Fatal(err)
	}
	var out []T
	for len(out) < want {
		m, err := sub.NextMsg(waitFor)
		if err != nil {
			t.Fatalf("%s: %d replies, want %d: %v", subject, len(out), want, err)
		}
		var v T
		if err := json.Unmarshal(m.Data, &v); err != nil {
			t.Fatalf("%s reply %s: %v", subject, m.Data, err)
		}
		out = append(out, v)
	}
	// No more than want.
	if m, err := sub.NextMsg(300 * time.Millisecond); err == nil {
		t.Errorf("%s: an extra reply %s", subject, m.Data)
	}
	return out
}

func TestMicroDiscoveryListsEveryServicePartitionWithItsVersionAndEndpoints(t *testing.T) {
	const parts = 2
	s := runStack(t, func(c *stack.Config) { c.Partitions = parts; c.Version = "1.2.3" })
	op := s.NATSUsers[natskit.RoleOperator]
	nc, err := natskit.Connect(s.NATSURL, "micro-test", op.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	endpoints := map[string][]string{
		"user":  {"follow", "login", "signup"},
		"tweet": {"like", "post"},
		"feed":  {"read", "resume"},
	}
	infos := discover[micro.Info](t, nc, "$SRV.INFO", len(endpoints)*parts)
	seen := map[string]bool{}
	for _, in := range infos {
		p, n := in.Metadata["partition"], in.Metadata["partitions"]
		key := in.Name + "/" + p
		if seen[key] {
			t.Errorf("%s partition %s listed twice", in.Name, p)
		}
		seen[key] = true
		if n != fmt.Sprint(parts) {
			t.Errorf("%s: metadata partitions %q, want %d", key, n, parts)
		}
		if in.Version != "1.2.3" {
			t.Errorf("%s: version %q, want 1.2.3", key, in.Version)
		}
		if want := fmt.Sprintf("(partition %s of %d)", p, parts); !strings.HasSuffix(in.Description, want) {
			t.Errorf("%s: description %q does not end in %q", key, in.Description, want)
		}
		if c := in.Metadata["consumer"]; c != fmt.Sprintf("%s-%sof%d", in.Name, p, parts) {
			t.Errorf("%s: metadata consumer %q", key, c)
		}
		if in.Metadata["stream"] != "CHIRP" {
			t.Errorf("%s: metadata stream %q, want CHIRP", key, in.Metadata["stream"])
		}
		var names []string
		for _, e := range in.Endpoints {
			names = append(names, e.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, endpoints[in.Name]) {
			t.Errorf("%s: endpoints %v, want %v", key, names, endpoints[in.Name])
		}
	}
	for name := range endpoints {
		for i := range parts {
			if !seen[fmt.Sprintf("%s/%d", name, i)] {
				t.Errorf("%s partition %d not listed", name, i)
			}
		}
	}

	// PING per service answers once per partition; STATS counts requests.
	pings := discover[micro.Ping](t, nc, "$SRV.PING.feed", parts)
	for _, p := range pings {
		if p.Name != "feed" || p.Version != "1.2.3" {
			t.Errorf("feed ping %+v", p)
		}
	}
	c := signup(t, "ws://"+s.HTTPAddr+"/ws", "stats")
	c.post("counted by micro")
	var posts int
	for _, st := range discover[micro.Stats](t, nc, "$SRV.STATS.tweet", parts) {
		for _, e := range st.Endpoints {
			if e.Name == "post" {
				posts += e.NumRequests
			}
		}
	}
	if posts != 1 {
		t.Errorf("tweet post endpoint requests across partitions = %d, want 1", posts)
	}
}
