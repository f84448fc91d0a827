package feed

import (
	"testing"

	"chirp/contract"
)

func resume(user string, since uint64) Resume {
	return Resume{Reply: "resume." + user, User: user, Since: since}
}

func replayOf(t *testing.T, effs []Effect) Replay {
	t.Helper()
	if len(effs) != 1 {
		t.Fatalf("resume effects = %#v", effs)
	}
	r, ok := effs[0].(Replay)
	if !ok {
		t.Fatalf("resume answered %#v, want a Replay", effs[0])
	}
	return r
}

func TestResumeReplaysPushesMissedWhileOffline(t *testing.T) {
	a1, a2 := tw("alice", 1, 1), tw("alice", 2, 2)
	w := world(followed("bob", "alice"), online("bob", "g"), posted(a1), offline("bob", "g"), liked(a1.ID, 3), posted(a2))

	r := replayOf(t, w.Step(resume("BOB", 1)))
	liked1 := contract.PushRecord{Kind: contract.PushLikes, Seq: 2, TweetID: a1.ID, Likes: 3}
	tweet2 := contract.PushRecord{Kind: contract.PushTweet, Seq: 3, Tweet: &a2}
	if r.To != "resume.BOB" || r.Seq != 3 || r.Gap || len(r.Pushes) != 2 {
		t.Fatalf("replay = %+v", r)
	}
	if got := r.Pushes[0]; got.Kind != liked1.Kind || got.Seq != liked1.Seq || got.TweetID != liked1.TweetID || got.Likes != liked1.Likes || got.Tweet != nil {
		t.Fatalf("first replayed push = %+v, want %+v", got, liked1)
	}
	if got := r.Pushes[1]; got.Kind != tweet2.Kind || got.Seq != 3 || *got.Tweet != a2 {
		t.Fatalf("second replayed push = %+v, want %+v", got, tweet2)
	}

	// From the start: the tweet push shows the count it had when pushed.
	r = replayOf(t, w.Step(resume("bob", 0)))
	if len(r.Pushes) != 3 || r.Pushes[0].Tweet.Likes != 0 || r.Pushes[0].Tweet.ID != a1.ID {
		t.Fatalf("replay from 0 = %+v", r.Pushes)
	}
	// Up to date: nothing to replay.
	if r = replayOf(t, w.Step(resume("bob", 3))); len(r.Pushes) != 0 || r.Seq != 3 || r.Gap {
		t.Fatalf("replay when up to date = %+v", r)
	}
}

func TestResumeAheadOfNewestPushIsInvalid(t *testing.T) {
	w := world(posted(tw("alice", 1, 1)))
	want := []Effect{Respond{To: "resume.alice", Body: contract.Fail(contract.CodeInvalid, "since is ahead of the newest push")}}
	wantEffects(t, w.Step(resume("alice", 2)), want...)
	wantEffects(t, w.Step(resume("nobody", 1)), Respond{To: "resume.nobody", Body: contract.Fail(contract.CodeInvalid, "since is ahead of the newest push")})
	if r := replayOf(t, w.Step(resume("nobody", 0))); r.Seq != 0 || r.Gap || len(r.Pushes) != 0 {
		t.Fatalf("resume of unknown account = %+v", r)
	}
}

func TestResumeBeyondRetentionReportsGap(t *testing.T) {
	w := New()
	const n = PushRetain + 5
	for i := 1; i <= n; i++ {
		w.Step(posted(tw("alice", uint64(i), i)))
	}
	r := replayOf(t, w.Step(resume("alice", 0)))
	if !r.Gap || r.Seq != n || len(r.Pushes) != PushRetain {
		t.Fatalf("gap=%v seq=%d pushes=%d", r.Gap, r.Seq, len(r.Pushes))
	}
	if r.Pushes[0].Seq != n-PushRetain+1 || r.Pushes[PushRetain-1].Seq != n {
		t.Fatalf("retained seqs %d..%d", r.Pushes[0].Seq, r.Pushes[PushRetain-1].Seq)
	}
	// Exactly at the edge of what is kept: no gap.
	if r := replayOf(t, w.Step(resume("alice", n-PushRetain))); r.Gap || len(r.Pushes) != PushRetain {
		t.Fatalf("edge: gap=%v pushes=%d", r.Gap, len(r.Pushes))
	}
	if r := replayOf(t, w.Step(resume("alice", n-PushRetain-1))); !r.Gap {
		t.Fatal("one before the edge: no gap reported")
	}
}
