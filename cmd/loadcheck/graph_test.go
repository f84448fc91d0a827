package loadcheck

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseGraph(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		undirected bool
		wantN      int
		wantEdges  []Edge
		wantErr    string
	}{
		{
			name:      "b follows a",
			input:     "0 1\n0 2\n2 1\n",
			wantN:     3,
			wantEdges: []Edge{{Followee: 0, Follower: 1}, {Followee: 2, Follower: 1}, {Followee: 0, Follower: 2}},
		},
		{
			name:       "undirected doubles each line and merges reciprocal lines",
			input:      "1 0\n0 1\n2 0\n",
			undirected: true,
			wantN:      3,
			wantEdges: []Edge{
				{Followee: 1, Follower: 0}, {Followee: 2, Follower: 0},
				{Followee: 0, Follower: 1}, {Followee: 0, Follower: 2},
			},
		},
		{
			name:      "comments, blanks, spaces, repeats and self-follows are skipped",
			input:     "# header\n% other\n\n  3   1  \n3 1\n2 2\r\n",
			wantN:     4,
			wantEdges: []Edge{{Followee: 3, Follower: 1}},
		},
		{
			name:      "no trailing newline",
			input:     "4 0",
			wantN:     5,
			wantEdges: []Edge{{Followee: 4, Follower: 0}},
		},
		{name: "three fields", input: "0 1\n1 2 3\n", wantErr: "line 2"},
		{name: "one field", input: "7\n", wantErr: "line 1"},
		{name: "negative id", input: "0 -1\n", wantErr: `bad account id "-1"`},
		{name: "not a number", input: "0 x\n", wantErr: `bad account id "x"`},
		{name: "empty", input: "# nothing\n", wantErr: "no edges"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ParseGraph(strings.NewReader(tc.input), tc.undirected)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.N != tc.wantN {
				t.Errorf("N = %d, want %d", g.N, tc.wantN)
			}
			if !reflect.DeepEqual(g.Edges, tc.wantEdges) {
				t.Errorf("edges = %v, want %v", g.Edges, tc.wantEdges)
			}
		})
	}
}

func TestGraphPrefixAndFollowees(t *testing.T) {
	g, err := ParseGraph(strings.NewReader("0 1\n1 0\n3 0\n0 4\n2 1\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m         int
		wantN     int
		followees [][]int
	}{
		{m: 0, wantN: 5, followees: [][]int{{1, 3}, {0, 2}, nil, nil, {0}}},
		{m: 9, wantN: 5, followees: [][]int{{1, 3}, {0, 2}, nil, nil, {0}}},
		{m: 3, wantN: 3, followees: [][]int{{1}, {0, 2}, nil}},
		{m: 1, wantN: 1, followees: [][]int{nil}},
	}
	for _, tc := range tests {
		sub := g.Prefix(tc.m)
		if sub.N != tc.wantN {
			t.Errorf("Prefix(%d).N = %d, want %d", tc.m, sub.N, tc.wantN)
		}
		if got := sub.Followees(); !reflect.DeepEqual(got, tc.followees) {
			t.Errorf("Prefix(%d).Followees() = %v, want %v", tc.m, got, tc.followees)
		}
	}
}

// The shipped graphs: sizes from graphs/README.md.
func TestLoadShippedGraphs(t *testing.T) {
	tests := []struct {
		path       string
		undirected bool
		max        int
		wantN      int
		wantEdges  int
	}{
		{"../../graphs/twitter-follows-13k/edges.txt", false, 0, 13688, 68328},
		{"../../graphs/twitter-follows-4k/edges.txt", false, 0, 3726, 23939},
		{"../../graphs/socfb-Reed98/edges.txt", true, 0, 962, 2 * 18812},
		{"../../graphs/socfb-Reed98/edges.txt", false, 0, 962, 18812},
	}
	for _, tc := range tests {
		g, err := LoadGraph(tc.path, tc.undirected, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		if g.N != tc.wantN || len(g.Edges) != tc.wantEdges {
			t.Errorf("%s: N=%d edges=%d, want N=%d edges=%d", tc.path, g.N, len(g.Edges), tc.wantN, tc.wantEdges)
		}
	}
	if _, err := LoadGraph("../../graphs/nope/edges.txt", false, 0); err == nil || !strings.Contains(err.Error(), "open graph") {
		t.Errorf("missing file: err = %v", err)
	}
}
