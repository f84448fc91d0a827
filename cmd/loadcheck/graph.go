package loadcheck

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Edge says Follower follows Followee (so Followee's tweets flow to Follower).
type Edge struct {
	Followee, Follower int
}

// Graph is a follower graph over accounts 0..N-1.
type Graph struct {
	N     int
	Edges []Edge // deduplicated, no self-follows, sorted by follower then followee
}

// LoadGraph reads an edge-list file (see ParseGraph) and keeps only accounts
// 0..maxAccounts-1 and the edges among them when maxAccounts > 0.
func LoadGraph(path string, undirected bool, maxAccounts int) (*Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open graph: %w", err)
	}
	defer f.Close()
	g, err := ParseGraph(f, undirected)
	if err != nil {
		return nil, fmt.Errorf("graph %s: %w", path, err)
	}
	return g.Prefix(maxAccounts), nil
}

// ParseGraph reads lines "a b" meaning b follows a; with undirected, a also
// follows b. Blank lines and lines starting with '#' or '%' are skipped.
// N is the largest id plus one. Repeated edges and self-follows are dropped.
func ParseGraph(r io.Reader, undirected bool) (*Graph, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	seen := make(map[Edge]struct{})
	g := &Graph{}
	add := func(e Edge) {
		if e.Followee == e.Follower {
			return
		}
		if _, dup := seen[e]; dup {
			return
		}
		seen[e] = struct{}{}
		g.Edges = append(g.Edges, e)
	}
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' || text[0] == '%' {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want two ids, got %q", line, text)
		}
		a, err := parseID(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		b, err := parseID(f[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		g.N = max(g.N, a+1, b+1)
		add(Edge{Followee: a, Follower: b})
		if undirected {
			add(Edge{Followee: b, Follower: a})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if g.N == 0 {
		return nil, fmt.Errorf("no edges")
	}
	sortEdges(g.Edges)
	return g, nil
}

func parseID(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100_000_000 {
		return 0, fmt.Errorf("bad account id %q", s)
	}
	return n, nil
}

func sortEdges(es []Edge) {
	slices.SortFunc(es, func(x, y Edge) int {
		if x.Follower != y.Follower {
			return x.Follower - y.Follower
		}
		return x.Followee - y.Followee
	})
}

// Prefix returns the subgraph of accounts 0..m-1 (g itself when m <= 0 or m >= N).
func (g *Graph) Prefix(m int) *Graph {
	if m <= 0 || m >= g.N {
		return g
	}
	sub := &Graph{N: m}
	for _, e := range g.Edges {
		if e.Followee < m && e.Follower < m {
			sub.Edges = append(sub.Edges, e)
		}
	}
	return sub
}

// Followees returns, per account, the accounts it follows in ascending order.
func (g *Graph) Followees() [][]int {
	out := make([][]int, g.N)
	for _, e := range g.Edges {
		out[e.Follower] = append(out[e.Follower], e.Followee)
	}
	return out
}
