package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTwoBrowsersFollowPostLikeAndReconnect drives two real browsers: A signs
// up, B signs up and follows A, A posts and B sees it without a reload; B
// likes it and A's count changes in place; B's socket drops, A posts while B
// is away, and B shows that tweet exactly once after reconnecting on its own.
func TestTwoBrowsersFollowPostLikeAndReconnect(t *testing.T) {
	exe := findChromium(t)
	url := startStack(t)

	a := newBrowser(t, exe, "a", 1100, 850)
	b := newBrowser(t, exe, "b", 375, 760) // a phone-width viewport
	defer a.checkNoExceptions()
	defer b.checkNoExceptions()

	a.open(url)
	a.signUp("alice", "alice-password")
	a.shot("1-signed-up")

	b.open(url)
	if msg := b.authError("tab-signup", "ALICE", "another-password"); msg != "The handle @ALICE is already taken. Try another one." {
		t.Errorf("signing up with a taken handle shows %q", msg)
	}
	if msg := b.authError("tab-login", "alice", "wrong-password"); msg != "That handle and password don't match an account." {
		t.Errorf("logging in with a wrong password shows %q", msg)
	}
	b.signUp("bob", "bob-password")

	// An error reply reads as plain words, and the page stays usable.
	if msg, ok := b.follow("nobody_here"); ok || msg != "There's no account called @nobody_here." {
		t.Errorf("following an unknown handle shows %q (ok=%v), want the plain not-found message", msg, ok)
	}
	if msg, ok := b.follow("alice"); !ok || !strings.Contains(msg, "@alice") {
		t.Fatalf("following alice shows %q (ok=%v)", msg, ok)
	}

	// The live counter counts code points: 140 birds are 280 UTF-16 units
	// but 140 characters.
	left := eval[string](a, `(() => { const t = document.getElementById("compose-text");
		t.value = "\u{1F426}".repeat(140); t.dispatchEvent(new Event("input"));
		return document.getElementById("counter").textContent; })()`)
	if left != "140" {
		t.Errorf("counter shows %q for 140 astral characters, want 140", left)
	}
	over := eval[[]any](a, `(() => { const t = document.getElementById("compose-text");
		t.value = "x".repeat(281); t.dispatchEvent(new Event("input"));
		const r = [document.getElementById("counter").textContent, document.getElementById("post").disabled];
		t.value = ""; t.dispatchEvent(new Event("input")); return r; })()`)
	if len(over) != 2 || over[0] != "-1" || over[1] != true {
		t.Errorf("counter and post button for 281 characters = %v, want [-1 true]", over)
	}

	// A posts; B's page shows it without a reload.
	eval[chromedp.Void](b, `window.__sameDocument = true`)
	first := a.post("Hello from Alice, live over the socket")
	b.waitFor("alice's tweet to arrive live", `document.querySelector(`+js(tweetSel(first))+`) !== null`)
	if !eval[bool](b, `window.__sameDocument === true`) {
		t.Fatal("B's page reloaded to show the tweet")
	}
	if got := eval[string](b, `document.querySelector(`+js(tweetSel(first)+" .tweet-author")+`).textContent`); got != "alice" {
		t.Errorf("B shows the author as %q, want alice", got)
	}
	b.shot("2-sees-alice-tweet")

	// B likes it; B's count comes from the reply, A's from a push.
	b.do("like alice's tweet", chromedp.Click(chromedp.CSS(tweetSel(first)+" .like")))
	b.waitFor("B's like count to read 1", `document.querySelector(`+js(tweetSel(first)+" .likes")+`).textContent === "1"`)
	if p := eval[string](b, `document.querySelector(`+js(tweetSel(first)+" .like")+`).getAttribute("aria-pressed")`); p != "true" {
		t.Errorf("B's like button aria-pressed = %q after liking, want true", p)
	}
	a.waitFor("A's like count to change in place", `document.querySelector(`+js(tweetSel(first)+" .likes")+`).textContent === "1"`)
	a.shot("3-like-count-changed")

	// B's socket drops and stays down for a while; A posts meanwhile.
	before := b.state()
	eval[chromedp.Void](b, `window.chirp.dropSocket(4000)`)
	b.waitFor("B to show it is offline", `document.body.dataset.conn === "offline"`)
	b.shot("4-offline")
	away := a.post("Posted while Bob was away")
	if conn := eval[string](b, `document.body.dataset.conn`); conn == "online" {
		t.Fatal("B reconnected before A's post was accepted; the test did not post while B was away")
	}
	b.waitFor("B to reconnect, re-authenticate and re-read the feed", `(() => { const s = window.chirp.state();
		return s.conn === "online" && s.authed && s.reconnects > `+strconv.Itoa(before.Reconnects)+` && s.feedReads > `+strconv.Itoa(before.FeedReads)+`; })()`)
	b.waitFor("the tweet posted while away", `document.querySelector(`+js(tweetSel(away))+`) !== null`)

	// A push after the reconnect still arrives live, and nothing shows twice.
	after := a.post("And one more after Bob is back")
	b.waitFor("a live tweet after the reconnect", `document.querySelector(`+js(tweetSel(after))+`) !== null`)
	for _, id := range []string{first, away, after} {
		if n := b.countOf(id); n != 1 {
			t.Errorf("B shows tweet %s %d times, want once", id, n)
		}
	}
	ids := eval[[]string](b, `window.chirp.tweetIds()`)
	if want := []string{after, away, first}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("B's feed is %v, want %v (newest first, each once)", ids, want)
	}
	if got := b.likesOf(first); got != "1" {
		t.Errorf("B shows %s likes on the first tweet after reconnecting, want 1", got)
	}
	if w := eval[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		t.Errorf("B's phone-width page scrolls sideways by %d px", w)
	}
	b.shot("5-after-reconnect")
	a.shot("6-final")

	// A reload keeps the session (the token is in sessionStorage, not
	// localStorage) and shows the same feed.
	if !eval[bool](b, `(sessionStorage.getItem("chirp.session") || "").includes('"token"') && localStorage.length === 0`) {
		t.Error("B's token is not kept in sessionStorage alone")
	}
	b.do("reload", chromedp.Reload())
	b.waitFor("the feed after a reload", `window.chirp.state().authed && window.chirp.state().feedReads > 0`)
	if got := eval[[]string](b, `window.chirp.tweetIds()`); strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("after a reload B's feed is %v, want %v", got, ids)
	}

	// Log out forgets the session; logging in again brings the feed back.
	b.do("log out", chromedp.Click(chromedp.ID("logout")))
	b.waitFor("the sign-in form", `document.body.dataset.view === "auth" && sessionStorage.getItem("chirp.session") === null && window.chirp.state().tweets === 0`)
	b.logIn("bob", "bob-password")
	if got := eval[[]string](b, `window.chirp.tweetIds()`); strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("after logging in again B's feed is %v, want %v", got, ids)
	}
}
