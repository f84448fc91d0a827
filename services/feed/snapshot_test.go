package feed

import (
	"bytes"
	"reflect"
	"testing"
)

// A restored world is indistinguishable from the one that was saved: it
// answers every later input with the same effects and saves to the same
// bytes.
func TestRestoredWorldBehavesLikeTheOriginal(t *testing.T) {
	script := randomScript(7, 30, 6000)
	orig := New()
	half := len(script) / 2
	for _, in := range script[:half] {
		orig.Step(in)
	}
	b, err := orig.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored := New()
	if err := restored.Restore(b); err != nil {
		t.Fatal(err)
	}
	again, err := restored.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Fatalf("restored world saves to %d bytes that differ from the original's %d", len(again), len(b))
	}
	for i, in := range script[half:] {
		got, want := restored.Step(in), orig.Step(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d after restore %#v:\n got  %#v\n want %#v", half+i, in, got, want)
		}
	}
	for _, k := range []string{"user_00", "user_01", "user_29"} {
		if got, want := restored.Feed(k), orig.Feed(k); !reflect.DeepEqual(got, want) {
			t.Fatalf("Feed(%s) after restore:\n got  %v\n want %v", k, got, want)
		}
		got, want := restored.Step(Resume{User: k}), orig.Step(Resume{User: k})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Resume(%s) after restore differs", k)
		}
		if r := want[0].(Replay); len(r.Pushes) == 0 {
			t.Fatalf("Resume(%s) replays nothing; the script should have pushed to it", k)
		}
	}
}

// A captured snapshot is the state at capture time, however the world
// steps on before it is encoded (the loop encodes it on another goroutine).
func TestCaptureIsTheStateWhenCapturedNotWhenEncoded(t *testing.T) {
	script := randomScript(11, 30, 4000)
	w := New()
	half := len(script) / 2
	for _, in := range script[:half] {
		w.Step(in)
	}
	want, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	encode := w.Capture()
	for _, in := range script[half:] {
		w.Step(in)
	}
	got, err := encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("captured snapshot encodes to %d bytes that differ from the %d of the state it was captured from", len(got), len(want))
	}
	now, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(now, want) {
		t.Fatal("the script's second half changed nothing; the test shows nothing")
	}
}

func TestRestoreOfGarbageLeavesWorldUnchanged(t *testing.T) {
	w := world(posted(tw("alice", 1, 1)), followed("bob", "alice"))
	before, _ := w.Snapshot()
	if err := w.Restore([]byte("not a snapshot")); err == nil {
		t.Fatal("Restore accepted garbage")
	}
	after, _ := w.Snapshot()
	if !bytes.Equal(before, after) {
		t.Fatal("a failed Restore changed the world")
	}
	if got := w.Feed("bob"); len(got) != 1 || got[0] != "alice-00000001" {
		t.Fatalf("Feed(bob) = %v", got)
	}
}
