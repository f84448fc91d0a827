package user

import (
	"bytes"
	"reflect"
	"testing"

	"chirp/contract"
)

func TestRetriedSignupAsksGatewayToLogInWithoutChangingTheAccount(t *testing.T) {
	w := New()
	in := signupIn(1, "Alice")
	in.Request = "signup:alice:1"
	w.Step(in)
	retry := signupIn(2, "alice")
	retry.Request = "signup:alice:1"
	retry.Hash = "another-salt"
	wantEffects(t, w.Step(retry), []Effect{Respond{To: "reply.2", Body: contract.RetriedSignup()}})

	// Login still checks the first hash.
	got := w.Step(Login{Reply: "l", Handle: "alice", Password: "pw"})
	if v := got[0].(VerifyPassword); v.Hash != "hash-of-Alice" {
		t.Fatalf("hash after retry = %q", v.Hash)
	}
	other := signupIn(3, "ALICE")
	other.Request = "signup:alice:2"
	wantEffects(t, w.Step(other), failure("reply.3", contract.CodeConflict, "handle is taken"))
}

func TestRestoredWorldBehavesLikeTheOriginal(t *testing.T) {
	orig := newWorld(t, history()...)
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
	for _, in := range []Input{
		followIn(10, "bob", "alice"), followIn(11, "alice", "bob"), signupIn(12, "ALICE"), signupIn(13, "dave"),
		Login{Reply: "l", Handle: "carol", Password: "x"}, followIn(14, "dave", "zed"),
	} {
		got, want := restored.Step(in), orig.Step(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%#v after restore:\n got  %#v\n want %#v", in, got, want)
		}
	}
	if !restored.Following("carol", "alice") || restored.Accounts() != 4 {
		t.Fatalf("restored: following=%v accounts=%d", restored.Following("carol", "alice"), restored.Accounts())
	}
}
