package gateway

import (
	"fmt"
	"strings"
	"testing"
)

// A socket's writer turns live pushes into frames: each seq once, and a
// jump in seq (pushes lost before they reached the socket) becomes a gap
// frame for the missing ones, so the client re-reads its feed.
func TestLivePushesWriteEachSeqOnceAndAGapForLostOnes(t *testing.T) {
	push := func(seq uint64) item {
		return item{seq: seq, frame: fmt.Appendf(nil, `{"push":"tweet","seq":%d}`, seq)}
	}
	for _, tc := range []struct {
		name  string
		since uint64 // lastSeq before: 0 on a socket that has had no push
		seqs  []uint64
		want  string
	}{
		{"consecutive", 0, []uint64{7, 8, 9}, "tweet 7, tweet 8, tweet 9"},
		{"first push after attach starts anywhere", 0, []uint64{41}, "tweet 41"},
		{"repeats dropped", 0, []uint64{3, 3, 2, 4}, "tweet 3, tweet 4"},
		{"lost pushes become a gap", 0, []uint64{3, 4, 8, 9}, "tweet 3, tweet 4, gap 7, tweet 8, tweet 9"},
		{"after a resume", 5, []uint64{6, 10}, "tweet 6, gap 9, tweet 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{lastSeq: tc.since}
			var frames [][]byte
			for _, s := range tc.seqs {
				frames = c.take(push(s), frames)
			}
			var got []string
			for _, f := range frames {
				kind, _, _ := strings.Cut(strings.TrimPrefix(string(f), `{"push":"`), `"`)
				got = append(got, fmt.Sprintf("%s %d", kind, pushSeq(f)))
			}
			if g := strings.Join(got, ", "); g != tc.want {
				t.Errorf("frames %s, want %s", g, tc.want)
			}
		})
	}
}

// The hand-over from a resume's replay to the held live pushes writes a
// gap only where live pushes are missing, never between replay and live.
func TestResumeHandOverWritesAGapOnlyForLostLivePushes(t *testing.T) {
	frame := func(seq uint64) []byte { return fmt.Appendf(nil, `{"push":"likes","seq":%d}`, seq) }
	c := &client{}
	frames := c.take(item{resume: &resumeStep{start: true}}, nil)
	for _, s := range []uint64{5, 6, 9} { // live, held during the resume; 7 and 8 lost
		frames = c.take(item{seq: s, frame: frame(s)}, frames)
	}
	frames = c.take(item{resume: &resumeStep{replayed: [][]byte{frame(3), frame(4), frame(5)}}}, frames)
	var got []uint64
	var gaps []uint64
	for _, f := range frames {
		if strings.HasPrefix(string(f), `{"push":"gap"`) {
			gaps = append(gaps, pushSeq(f))
			continue
		}
		got = append(got, pushSeq(f))
	}
	if fmt.Sprint(got) != "[3 4 5 6 9]" || fmt.Sprint(gaps) != "[8]" {
		t.Errorf("pushes %v and gaps %v, want [3 4 5 6 9] and [8]", got, gaps)
	}
}
