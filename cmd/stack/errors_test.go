package stack_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"chirp/cmd/stack"
)

// Every error code of protocol v1, and what a rejected request leaves
// behind: nothing.

func TestBadRequestForFramesThatAreNotRequests(t *testing.T) {
	url := startStack(t, nil)
	r := dialRaw(t, url)
	tests := []struct {
		name  string
		frame string
		re    string // "" means the reply must carry no "re"
	}{
		{"not JSON", "hello", ""},
		{"empty frame", "", ""},
		{"JSON but not an object", `"feed"`, ""},
		{"array of requests", `[{"id":"a1","op":"feed"}]`, ""},
		{"trailing garbage", `{"id":"a2","op":"feed"} x`, ""},
		{"truncated object", `{"id":"a3","op":"fe`, ""},
		{"id missing", `{"op":"feed"}`, ""},
		{"id not a string", `{"id":7,"op":"feed"}`, ""},
		{"id over 128 bytes", `{"id":"` + strings.Repeat("i", 129) + `","op":"feed"}`, ""},
		{"op missing", `{"id":"b1"}`, "b1"},
		{"op not a string", `{"id":"b2","op":1}`, "b2"},
		{"signup without password", `{"id":"b3","op":"signup","handle":"x_y"}`, "b3"},
		{"handle not a string", `{"id":"b4","op":"signup","handle":5,"password":"12345678"}`, "b4"},
		{"login without handle", `{"id":"b5","op":"login","password":"12345678"}`, "b5"},
		{"auth without token", `{"id":"b6","op":"auth"}`, "b6"},
		{"token not a string", `{"id":"b7","op":"auth","token":{}}`, "b7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			r.sendText(tc.frame)
			rep := r.reply()
			if code := rep.errorCode(); code != "bad_request" {
				t.Errorf("reply %v: want bad_request", rep)
			}
			re, has := rep.str("re")
			if tc.re == "" && has {
				t.Errorf("reply carries re %q, want none", re)
			}
			if tc.re != "" && re != tc.re {
				t.Errorf("reply re %q, want %q", re, tc.re)
			}
		})
	}
	// The connection is still usable after all of that.
	r.t = t
	h := newHandle("after_bad")
	r.sendText(`{"id":"last","op":"signup","handle":"` + h + `","password":"` + testPassword + `"}`)
	if rep := r.reply(); string(rep["ok"]) != "true" {
		t.Errorf("signup after bad frames: %v", rep)
	}
}

func TestBadRequestForWrongTypedFieldsOfAuthenticatedOps(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "typed")
	tests := []struct {
		op     string
		fields map[string]any
	}{
		{"post", nil},
		{"post", map[string]any{"text": 5}},
		{"follow", nil},
		{"follow", map[string]any{"handle": []string{"x"}}},
		{"like", nil},
		{"like", map[string]any{"tweet": 1}},
		{"feed", map[string]any{"limit": "10"}},
		{"feed", map[string]any{"limit": 1.5}},
		{"feed", map[string]any{"before": 3}},
	}
	for _, tc := range tests {
		a.fail("bad_request", tc.op, tc.fields)
	}
	if got := a.feedIDs(); len(got) != 0 {
		t.Errorf("feed after rejected requests = %v, want empty", got)
	}
}

func TestUnknownOpIsAnsweredBeforeAndAfterAuth(t *testing.T) {
	url := startStack(t, nil)
	c := dial(t, url)
	c.fail("unknown_op", "delete", map[string]any{"tweet": "x"})
	c.fail("unknown_op", "", nil)
	c.fail("unknown_op", "Post", map[string]any{"text": "ops are case-sensitive"})
	a := signup(t, url, "unknownop")
	a.fail("unknown_op", "unfollow", map[string]any{"handle": "x"})
}

func TestUnauthenticatedBeforeSignupLoginOrAuth(t *testing.T) {
	url := startStack(t, nil)
	author := signup(t, url, "unauth")
	tw := author.post("x")
	c := dial(t, url)
	c.fail("unauthenticated", "post", map[string]any{"text": "who am I"})
	c.fail("unauthenticated", "follow", map[string]any{"handle": author.handle})
	c.fail("unauthenticated", "like", map[string]any{"tweet": tw.ID})
	c.fail("unauthenticated", "feed", nil)
	// Nothing happened anywhere.
	sameIDs(t, "author's feed", author.feedIDs(), []string{tw.ID})
	if n := author.like(tw.ID); n != 1 {
		t.Errorf("likes after a rejected like = %d, want 1", n)
	}
}

func TestWrongPasswordAndUnknownHandleAreAnsweredAlike(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "secretive")
	c := dial(t, url)
	wrong := c.fail("unauthenticated", "login", map[string]any{"handle": a.handle, "password": "not the password"})
	unknown := c.fail("unauthenticated", "login", map[string]any{"handle": newHandle("nobody"), "password": testPassword})
	if wrong.Message != unknown.Message {
		t.Errorf("wrong password says %q, unknown handle says %q: they must not differ", wrong.Message, unknown.Message)
	}
	// A login that breaks the handle rules is just another unknown handle.
	bad := c.fail("unauthenticated", "login", map[string]any{"handle": "no such!", "password": testPassword})
	if bad.Message != unknown.Message {
		t.Errorf("invalid handle says %q, unknown handle says %q", bad.Message, unknown.Message)
	}
	// The failed logins left the connection acting as nobody.
	c.fail("unauthenticated", "feed", nil)
}

func TestForgedOrGarbageTokensAreUnauthenticated(t *testing.T) {
	url := startStack(t, nil)
	victim := signup(t, url, "victim")
	attacker := dial(t, url)
	attacker.handle = newHandle("attacker")
	rep := attacker.ok("signup", map[string]any{"handle": attacker.handle, "password": testPassword})
	var token string
	if err := rep.Decode("token", &token); err != nil {
		t.Fatal(err)
	}
	// Swap the claimed handle, keep the attacker's signature.
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not v1.<payload>.<mac>", token)
	}
	forgedClaims := `{"h":"` + victim.handle + `","exp":` + "99999999999}"
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forgedClaims)) + "." + parts[2]

	c := dial(t, url)
	for _, tok := range []string{forged, "", "v1", "v1..", "garbage", token + "x", strings.Replace(token, "v1.", "v2.", 1)} {
		c.fail("unauthenticated", "auth", map[string]any{"token": tok})
	}
	c.fail("unauthenticated", "post", map[string]any{"text": "as the victim?"})
	if got := victim.feedIDs(); len(got) != 0 {
		t.Errorf("victim's feed = %v, want empty", got)
	}
	// The genuine token still works.
	c.handle = attacker.handle
	c.ok("auth", map[string]any{"token": token})
}

func TestTokensFromAnotherSecretOrExpiredAreUnauthenticated(t *testing.T) {
	var tokenTTL = time.Second
	url := startStack(t, func(c *stack.Config) {
		c.Gateway.TokenSecret = []byte("secret one")
		c.Gateway.TokenTTL = tokenTTL
	})
	other := startStack(t, func(c *stack.Config) { c.Gateway.TokenSecret = []byte("secret two") })

	a := dial(t, other)
	a.handle = newHandle("elsewhere")
	var foreign string
	if err := a.ok("signup", map[string]any{"handle": a.handle, "password": testPassword}).Decode("token", &foreign); err != nil {
		t.Fatal(err)
	}
	c := dial(t, url)
	c.fail("unauthenticated", "auth", map[string]any{"token": foreign})

	b := dial(t, url)
	b.handle = newHandle("shortlived")
	var token string
	if err := b.ok("signup", map[string]any{"handle": b.handle, "password": testPassword}).Decode("token", &token); err != nil {
		t.Fatal(err)
	}
	time.Sleep(tokenTTL + 100*time.Millisecond)
	c.fail("unauthenticated", "auth", map[string]any{"token": token})
	// An expired token ends nothing but itself: the password still works.
	c.handle = b.handle
	c.ok("login", map[string]any{"handle": b.handle, "password": testPassword})
}

func TestInvalidSignups(t *testing.T) {
	url := startStack(t, nil)
	c := dial(t, url)
	tests := []struct{ name, handle, password string }{
		{"empty handle", "", testPassword},
		{"handle with a dash", "bad-handle", testPassword},
		{"handle with a space", "bad handle", testPassword},
		{"handle with a non-ASCII letter", "héllo", testPassword},
		{"handle of 31 characters", strings.Repeat("h", 31), testPassword},
		{"password of 7 bytes", newHandle("shortpw"), "1234567"},
		{"empty password", newHandle("nopw"), ""},
		{"password of 73 bytes", newHandle("longpw"), strings.Repeat("p", 73)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.fail("invalid", "signup", map[string]any{"handle": tc.handle, "password": tc.password})
		})
	}
	c.t = t
	// The bounds themselves are fine: 30 characters, 8 and 72 bytes.
	c.ok("signup", map[string]any{"handle": strings.Repeat("H", 30), "password": "12345678"})
	d := dial(t, url)
	d.ok("signup", map[string]any{"handle": newHandle("pw72"), "password": strings.Repeat("p", 72)})
	// A rejected signup took nothing: the handle is still free.
	d.ok("signup", map[string]any{"handle": tests[5].handle, "password": testPassword})
	// The connection that failed is still acting as its last account.
	c.fail("invalid", "signup", map[string]any{"handle": "x y", "password": testPassword})
	if tw := c.post("still me"); tw.Author != strings.Repeat("H", 30) {
		t.Errorf("after a rejected signup the post is authored by %q", tw.Author)
	}
}

func TestInvalidPostText(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "texter")
	a.fail("invalid", "post", map[string]any{"text": ""})
	a.fail("invalid", "post", map[string]any{"text": strings.Repeat("é", 281)})
	a.fail("invalid", "post", map[string]any{"text": strings.Repeat("x", 281)})
	if got := a.feedIDs(); len(got) != 0 {
		t.Fatalf("feed after rejected posts = %v, want empty", got)
	}
	// The rejected posts used no tweet number: the first accepted one and
	// the next one differ by exactly one step.
	first := a.post(strings.Repeat("x", 280))
	if !strings.HasSuffix(first.ID, "-00000001") {
		t.Errorf("first accepted tweet id %q: rejected posts consumed ids", first.ID)
	}
}

func TestInvalidFollows(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "Narcissus")
	tw := a.post("me")
	a.fail("invalid", "follow", map[string]any{"handle": a.handle})
	a.fail("invalid", "follow", map[string]any{"handle": strings.ToLower(a.handle)})
	a.fail("invalid", "follow", map[string]any{"handle": "not a handle"})
	a.fail("invalid", "follow", map[string]any{"handle": ""})
	sameIDs(t, "feed", a.feedIDs(), []string{tw.ID})
}

func TestInvalidFeedLimitsAndCursors(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "pager")
	a.post("one")
	for _, limit := range []int{0, -1, 201, 1 << 30} {
		a.fail("invalid", "feed", map[string]any{"limit": limit})
	}
	a.fail("invalid", "feed", map[string]any{"before": "not a cursor"})
	a.fail("invalid", "feed", map[string]any{"before": "%%%"})
}

func TestNotFoundForUnknownAccountsAndTweets(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "seeker")
	tw := a.post("real")
	a.fail("not_found", "follow", map[string]any{"handle": newHandle("ghost")})
	for _, id := range []string{"nope", tw.ID + "0", "ghost-00000001", strings.TrimSuffix(tw.ID, "1") + "2", ""} {
		a.fail("not_found", "like", map[string]any{"tweet": id})
	}
	tweets, _ := a.feedPage(nil)
	if len(tweets) != 1 || tweets[0].Likes != 0 {
		t.Errorf("feed after rejected likes = %+v, want one tweet with 0 likes", tweets)
	}
}

func TestConflictWhenHandleIsTakenIgnoringCase(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "Taken")
	c := dial(t, url)
	c.fail("conflict", "signup", map[string]any{"handle": a.handle, "password": "another password"})
	c.fail("conflict", "signup", map[string]any{"handle": strings.ToLower(a.handle), "password": "another password"})
	c.fail("conflict", "signup", map[string]any{"handle": strings.ToUpper(a.handle), "password": "another password"})
	// The rejected signups changed nothing: the old password still works,
	// theirs does not, and the connection acts as nobody.
	c.fail("unauthenticated", "feed", nil)
	c.fail("unauthenticated", "login", map[string]any{"handle": a.handle, "password": "another password"})
	c.ok("login", map[string]any{"handle": a.handle, "password": testPassword})
}

func TestRejectedLoginOrAuthKeepsTheCurrentAccount(t *testing.T) {
	url := startStack(t, nil)
	a := signup(t, url, "steady")
	b := signup(t, url, "other")
	a.fail("unauthenticated", "login", map[string]any{"handle": b.handle, "password": "wrong password"})
	a.fail("unauthenticated", "auth", map[string]any{"token": "v1.x.y"})
	a.fail("conflict", "signup", map[string]any{"handle": b.handle, "password": testPassword})
	if tw := a.post("who am I"); tw.Author != a.handle {
		t.Errorf("post authored by %q, want %q", tw.Author, a.handle)
	}
	if got := b.feedIDs(); len(got) != 0 {
		t.Errorf("b's feed = %v, want empty", got)
	}
}

func TestUnavailableWhenTheUserServiceIsNotRunning(t *testing.T) {
	url := startStack(t, func(c *stack.Config) { c.Components = []string{"tweet", "feed", "gateway"} })
	c := dial(t, url)
	c.fail("unavailable", "signup", map[string]any{"handle": newHandle("early"), "password": testPassword})
	c.fail("unavailable", "login", map[string]any{"handle": newHandle("early"), "password": testPassword})
	c.fail("unauthenticated", "feed", nil) // and the connection is still nobody
}

func TestUnavailableWhenTheFeedServiceDoesNotAnswer(t *testing.T) {
	url := startStack(t, func(c *stack.Config) {
		c.Components = []string{"user", "tweet", "gateway"}
		c.Gateway.RequestTimeout = 300 * time.Millisecond
	})
	a := signup(t, url, "lonely")
	b := signup(t, url, "friend")
	// Posts and follows are answered by the feed service once the feed has
	// them; without it the gateway gives up after RequestTimeout.
	a.fail("unavailable", "post", map[string]any{"text": "anyone?"})
	a.fail("unavailable", "follow", map[string]any{"handle": b.handle})
	// Requests that never need the feed service still work.
	a.fail("conflict", "signup", map[string]any{"handle": b.handle, "password": testPassword})
	a.fail("not_found", "follow", map[string]any{"handle": newHandle("ghost")})
}
