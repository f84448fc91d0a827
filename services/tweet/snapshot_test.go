package tweet

import (
	"bytes"
	"reflect"
	"testing"
)

func snapHistory() []Input {
	retry := postIn(5, "alice", "first")
	retry.Request = "alice:post:1"
	return []Input{
		created(1, "Alice"), created(2, "bob"),
		postIn(3, "alice", "hello"), likeIn(4, "bob", "alice-00000001"),
		retry,
	}
}

func TestRestoredWorldBehavesLikeTheOriginal(t *testing.T) {
	orig := newWorld(t, snapHistory()...)
	b, err := orig.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored := New()
	if err := restored.Restore(b); err != nil {
		t.Fatal(err)
	}
	if again, _ := restored.Snapshot(); !bytes.Equal(again, b) {
		t.Fatal("restored world saves to different bytes")
	}
	retry := postIn(9, "alice", "first")
	retry.Request = "alice:post:1"
	for _, in := range []Input{
		postIn(6, "bob", "hi"), likeIn(7, "alice", "alice-00000001"), likeIn(8, "alice", "bob-00000001"),
		retry, postIn(10, "ALICE", "third"), likeIn(11, "bob", "nope"),
	} {
		got, want := restored.Step(in), orig.Step(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%#v after restore:\n got  %#v\n want %#v", in, got, want)
		}
	}
	if n, _ := restored.Likes("alice-00000001"); n != 2 {
		t.Fatalf("likes after restore = %d, want 2", n)
	}
}

func TestRestoreOfGarbageLeavesWorldUnchanged(t *testing.T) {
	w := newWorld(t, snapHistory()...)
	if err := w.Restore([]byte{1, 2, 3}); err == nil {
		t.Fatal("Restore accepted garbage")
	}
	if n, ok := w.Likes("alice-00000001"); !ok || n != 1 {
		t.Fatalf("Likes = %d, %v after failed restore", n, ok)
	}
}
