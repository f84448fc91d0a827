package user

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"chirp/contract"
)

// t0 is the stream time of input seq 0; input seq n is stored n ms later.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func meta(seq uint64) Meta {
	return Meta{Seq: seq, At: t0.Add(time.Duration(seq) * time.Millisecond), Reply: fmt.Sprintf("reply.%d", seq)}
}

// stamp is how meta(seq).At appears in events.
func stamp(seq uint64) string { return contract.FormatTime(meta(seq).At) }

func signupIn(seq uint64, handle string) Signup {
	return Signup{Meta: meta(seq), Handle: handle, Hash: "hash-of-" + handle}
}

func followIn(seq uint64, follower, followee string) Follow {
	return Follow{Meta: meta(seq), Follower: follower, Followee: followee}
}

// newWorld returns a world that has stepped through ins, failing the test if
// any of them is rejected.
func newWorld(t *testing.T, ins ...Input) *World {
	t.Helper()
	w := New()
	for _, in := range ins {
		for _, e := range w.Step(in) {
			if r, ok := e.(Respond); ok {
				if _, failed := r.Body.(contract.ErrorReply); failed {
					t.Fatalf("setup input %#v rejected: %#v", in, r.Body)
				}
			}
		}
	}
	return w
}

func wantEffects(t *testing.T, got, want []Effect) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("effects:\n got  %#v\n want %#v", got, want)
	}
}

// failure is the single effect of a rejected input.
func failure(to, code, message string) []Effect {
	return []Effect{Respond{To: to, Body: contract.Fail(code, message)}}
}

const badHandle = "handle must be 1-30 characters of A-Z, a-z, 0-9 and _"

func TestSignupCreatesAccount(t *testing.T) {
	w := New()
	got := w.Step(signupIn(1, "Alice_01"))
	wantEffects(t, got, []Effect{
		Publish{
			Subject: "chirp.evt.user.created.alice_01",
			Event:   contract.UserCreated{Handle: "Alice_01", At: "2025-03-01T12:00:00.001Z"},
		},
		Respond{To: "reply.1", Body: contract.UserReply{OK: true, User: contract.User{Handle: "Alice_01"}}},
	})
	if w.Accounts() != 1 {
		t.Fatalf("Accounts() = %d, want 1", w.Accounts())
	}
}

func TestSignupEventTimeIsUTCWithMilliseconds(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	in := Signup{
		Meta:   Meta{Seq: 7, At: time.Date(2025, 3, 1, 13, 0, 0, 123456789, paris), Reply: "r"},
		Handle: "bob", Hash: "h",
	}
	got := New().Step(in)
	want := contract.UserCreated{Handle: "bob", At: "2025-03-01T12:00:00.123Z"}
	if ev := got[0].(Publish).Event; ev != want {
		t.Fatalf("event = %#v, want %#v", ev, want)
	}
}

func TestSignupAcceptsHandlesWithinTheRules(t *testing.T) {
	for _, h := range []string{
		"a", "Z", "0", "_", "abc_XYZ_019",
		strings.Repeat("x", contract.MaxHandle),
	} {
		t.Run(h, func(t *testing.T) {
			got := New().Step(signupIn(1, h))
			wantEffects(t, got, []Effect{
				Publish{
					Subject: "chirp.evt.user.created." + strings.ToLower(h),
					Event:   contract.UserCreated{Handle: h, At: stamp(1)},
				},
				Respond{To: "reply.1", Body: contract.UserReply{OK: true, User: contract.User{Handle: h}}},
			})
		})
	}
}

func TestSignupRejectsInvalidHandle(t *testing.T) {
	for _, tc := range []struct{ name, handle string }{
		{"empty", ""},
		{"31 chars", strings.Repeat("x", contract.MaxHandle+1)},
		{"hyphen", "a-b"},
		{"space", "a b"},
		{"dot", "a.b"},
		{"subject wildcard", "a*"},
		{"non-ASCII letter", "zoë"},
		{"Kelvin sign lower-cases to k", "\u212Aate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New()
			got := w.Step(signupIn(1, tc.handle))
			wantEffects(t, got, failure("reply.1", contract.CodeInvalid, badHandle))
			if w.Accounts() != 0 {
				t.Fatalf("Accounts() = %d after a rejected signup", w.Accounts())
			}
		})
	}
}

func TestSignupWithoutHashIsBadRequest(t *testing.T) {
	w := New()
	got := w.Step(Signup{Meta: meta(1), Handle: "alice"})
	wantEffects(t, got, failure("reply.1", contract.CodeBadRequest, "signup command without a password hash"))
	if w.Accounts() != 0 {
		t.Fatalf("Accounts() = %d after a rejected signup", w.Accounts())
	}
}

func TestSignupRejectsTakenHandleIgnoringCase(t *testing.T) {
	for _, h := range []string{"alice", "Alice", "ALICE", "aLiCe"} {
		t.Run(h, func(t *testing.T) {
			w := newWorld(t, signupIn(1, "Alice"))
			got := w.Step(signupIn(2, h))
			wantEffects(t, got, failure("reply.2", contract.CodeConflict, "handle is taken"))
			if w.Accounts() != 1 {
				t.Fatalf("Accounts() = %d, want 1", w.Accounts())
			}
			// The first spelling stays the account's handle.
			got = w.Step(Login{Reply: "l", Handle: "alice", Password: "pw"})
			if v := got[0].(VerifyPassword); v.User.Handle != "Alice" || v.Hash != "hash-of-Alice" {
				t.Fatalf("login after conflict = %#v", v)
			}
		})
	}
}

func TestFollowPublishesFollowedEvent(t *testing.T) {
	w := newWorld(t, signupIn(1, "Alice"), signupIn(2, "Bob"))
	// Handles are matched ignoring case; the event carries the handles as
	// signed up and the subject the follower's key.
	got := w.Step(followIn(3, "alice", "BOB"))
	wantEffects(t, got, []Effect{Publish{
		Subject: "chirp.evt.user.followed.alice",
		Event:   contract.UserFollowed{Follower: "Alice", Followee: "Bob", At: stamp(3)},
		Reply:   "reply.3",
	}})
	if !w.Following("Alice", "Bob") || !w.Following("ALICE", "bob") {
		t.Fatal("Alice does not follow Bob")
	}
	if w.Following("Bob", "Alice") {
		t.Fatal("following is not mutual")
	}
}

func TestFollowAgainIsOkAndChangesNothing(t *testing.T) {
	w := newWorld(t, signupIn(1, "alice"), signupIn(2, "bob"), followIn(3, "alice", "bob"))
	before := newWorld(t, signupIn(1, "alice"), signupIn(2, "bob"), followIn(3, "alice", "bob"))
	// Still published (the feed service answers it), with its own time.
	got := w.Step(followIn(4, "alice", "Bob"))
	wantEffects(t, got, []Effect{Publish{
		Subject: "chirp.evt.user.followed.alice",
		Event:   contract.UserFollowed{Follower: "alice", Followee: "bob", At: stamp(4)},
		Reply:   "reply.4",
	}})
	if !reflect.DeepEqual(w, before) {
		t.Fatal("a repeated follow changed the world")
	}
}

func TestFollowErrors(t *testing.T) {
	for _, tc := range []struct {
		name               string
		follower, followee string
		code, message      string
	}{
		{"unknown follower", "carol", "alice", contract.CodeNotFound, "no such account: carol"},
		{"unknown followee", "alice", "carol", contract.CodeNotFound, "no such account: carol"},
		{"invalid followee", "alice", "b-b", contract.CodeInvalid, badHandle},
		{"empty followee", "alice", "", contract.CodeInvalid, badHandle},
		{"Kelvin sign followee", "alice", "\u212Aate", contract.CodeInvalid, badHandle},
		{"yourself", "alice", "alice", contract.CodeInvalid, "you cannot follow yourself"},
		{"yourself in other case", "alice", "ALICE", contract.CodeInvalid, "you cannot follow yourself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, signupIn(1, "alice"), signupIn(2, "bob"), signupIn(3, "kate"))
			got := w.Step(followIn(4, tc.follower, tc.followee))
			wantEffects(t, got, failure("reply.4", tc.code, tc.message))
		})
	}
}

func TestLoginAsksToVerifyPassword(t *testing.T) {
	w := newWorld(t, signupIn(1, "Alice"))
	for _, h := range []string{"Alice", "alice", "ALICE"} {
		got := w.Step(Login{Reply: "login.1", Handle: h, Password: "correct horse"})
		wantEffects(t, got, []Effect{VerifyPassword{
			To:       "login.1",
			Hash:     "hash-of-Alice",
			Password: "correct horse",
			User:     contract.User{Handle: "Alice"},
		}})
	}
}

func TestLoginUnknownHandleAnsweredLikeWrongPassword(t *testing.T) {
	// A wrong password is answered unauthenticated by the VerifyPassword
	// effect; a handle the world cannot use must get that same answer.
	for _, tc := range []struct{ name, handle string }{
		{"unknown", "carol"},
		{"empty", ""},
		{"invalid", "a-b"},
		{"Kelvin sign whose key is an account's key", "\u212Aate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, signupIn(1, "kate"))
			got := w.Step(Login{Reply: "login.1", Handle: tc.handle, Password: "whatever1"})
			wantEffects(t, got, failure("login.1", contract.CodeUnauthenticated, "wrong handle or password"))
		})
	}
}

// history is a world's past shared by the tests that compare two worlds.
func history() []Input {
	return []Input{
		signupIn(1, "alice"), signupIn(2, "Bob"), signupIn(3, "carol"),
		followIn(4, "alice", "bob"), followIn(5, "carol", "alice"),
	}
}

func TestRejectedInputChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		code string // "" for a query answered without a Respond
	}{
		{"signup invalid handle", signupIn(10, "no way"), contract.CodeInvalid},
		{"signup without hash", Signup{Meta: meta(10), Handle: "dave"}, contract.CodeBadRequest},
		{"signup taken handle", signupIn(10, "BOB"), contract.CodeConflict},
		{"follow by unknown", followIn(10, "dave", "alice"), contract.CodeNotFound},
		{"follow unknown", followIn(10, "alice", "dave"), contract.CodeNotFound},
		{"follow invalid", followIn(10, "alice", "a.b"), contract.CodeInvalid},
		{"follow yourself", followIn(10, "bob", "BOB"), contract.CodeInvalid},
		{"login unknown", Login{Reply: "l", Handle: "dave", Password: "password"}, contract.CodeUnauthenticated},
		{"login known", Login{Reply: "l", Handle: "alice", Password: "password"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, twin := newWorld(t, history()...), newWorld(t, history()...)
			got := w.Step(tc.in)
			if tc.code != "" {
				if len(got) != 1 {
					t.Fatalf("effects = %#v, want one Respond", got)
				}
				if body := got[0].(Respond).Body.(contract.ErrorReply); body.OK || body.Error.Code != tc.code {
					t.Fatalf("reply = %#v, want code %q", body, tc.code)
				}
			}
			if !reflect.DeepEqual(w, twin) {
				t.Fatal("the input changed the world")
			}
		})
	}
}

type bogusInput struct{}

func (bogusInput) isInput() {}

func TestUnknownInputIsIgnored(t *testing.T) {
	w, twin := newWorld(t, history()...), newWorld(t, history()...)
	if got := w.Step(bogusInput{}); got != nil {
		t.Fatalf("effects = %#v, want none", got)
	}
	if got := w.Step(nil); got != nil {
		t.Fatalf("effects = %#v, want none", got)
	}
	if !reflect.DeepEqual(w, twin) {
		t.Fatal("an unknown input changed the world")
	}
}

func TestStepIsDeterministic(t *testing.T) {
	script := append(history(),
		signupIn(6, "ALICE"), signupIn(7, "dave"), followIn(8, "dave", "Carol"),
		followIn(9, "dave", "carol"), followIn(10, "dave", "dave"), followIn(11, "eve", "dave"),
		Login{Reply: "l1", Handle: "DAVE", Password: "pw123456"},
		Login{Reply: "l2", Handle: "eve", Password: "pw123456"},
	)
	run := func() [][]Effect {
		w := New()
		var out [][]Effect
		for _, in := range script {
			out = append(out, w.Step(in))
		}
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs differ:\n%#v\n%#v", a, b)
	}
}
