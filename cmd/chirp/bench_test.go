package main

import "testing"

func TestBenchBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"-sockets", "0", "-quiet"},
		{"-systems", "chirp,redis", "-quiet"},
		{"-append", "-quiet"},
		{"-graph", "graphs/no-such-graph/edges.txt", "-quiet"},
		{"-no-such-flag"},
		{"extra-argument"},
	} {
		if code := benchMain(args); code != 2 {
			t.Errorf("chirp bench %q: exit %d, want 2", args, code)
		}
	}
}
