package e2e

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"chirp/cmd/loadcheck"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

var updateDocs = flag.Bool("update-docs", false, "also write the populated feed's screenshot to ../docs/screenshot.png")

// seedUser is an account the screenshot test creates over WebSocket.
type seedUser struct {
	handle string
	posts  []string
}

var seedUsers = []seedUser{
	{"ada", []string{
		"The engine can arrange and combine its numerical quantities exactly as if they were letters or any other general symbols.",
		"Wrote down the steps for Bernoulli numbers today. Notes run longer than the paper they annotate.",
	}},
	{"grace", []string{
		"It's easier to ask forgiveness than it is to get permission.",
		"Found an actual moth in relay 70, panel F. Taped it into the log book: first actual case of bug being found.",
	}},
	{"margaret", []string{
		"Software during the mission has to cope with alarms it did not expect. Priority scheduling keeps the landing going.",
	}},
	{"linus", []string{
		"Talk is cheap. Show me the code.",
	}},
}

// TestPopulatedFeedLooksFinished fills a feed with several authors, likes
// and a live post, checks that the page shows exactly the server's feed,
// and saves screenshots of it at desktop and phone width (with -update-docs,
// also the README's docs/screenshot.png).
func TestPopulatedFeedLooksFinished(t *testing.T) {
	exe := findChromium(t)
	url := startStack(t)
	wsURL := "ws" + strings.TrimPrefix(url, "http") + "ws"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conns := map[string]*loadcheck.Conn{}
	ids := map[string]string{} // text -> tweet id
	for _, u := range seedUsers {
		c, err := loadcheck.Dial(ctx, wsURL)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[u.handle] = c
		if _, err := c.Do(ctx, "signup", map[string]any{"handle": u.handle, "password": u.handle + "-password"}); err != nil {
			t.Fatalf("sign up %s: %v", u.handle, err)
		}
		for _, text := range u.posts {
			ids[text] = post(ctx, t, c, text)
		}
	}

	b := newBrowser(t, exe, "readme", 900, 1060)
	defer b.checkNoExceptions()
	b.open(url)
	b.shot("sign-up")
	b.signUp("katherine", "katherine-password")
	for _, h := range []string{"linus", "margaret", "ada", "grace"} {
		if msg, ok := b.follow(h); !ok {
			t.Fatalf("follow %s: %s", h, msg)
		}
	}
	mine := b.post("Checked the trajectory numbers by hand before launch. They match.")

	// Likes arrive as pushes and change counts in place; a new post slides in.
	likes := []struct{ by, text string }{
		{"ada", "It's easier to ask forgiveness than it is to get permission."},
		{"margaret", "It's easier to ask forgiveness than it is to get permission."},
		{"linus", "It's easier to ask forgiveness than it is to get permission."},
		{"grace", seedUsers[0].posts[0]},
		{"linus", seedUsers[0].posts[0]},
		{"ada", seedUsers[2].posts[0]},
	}
	for _, l := range likes {
		if _, err := conns[l.by].Do(ctx, "like", map[string]any{"tweet": ids[l.text]}); err != nil {
			t.Fatalf("%s likes %q: %v", l.by, l.text, err)
		}
	}
	for _, by := range []string{"grace", "margaret"} {
		if _, err := conns[by].Do(ctx, "like", map[string]any{"tweet": mine}); err != nil {
			t.Fatalf("%s likes katherine's tweet: %v", by, err)
		}
	}
	live := post(ctx, t, conns["grace"], "Programming is a skill best acquired by practice and example rather than from books.")
	b.waitFor("the live post", `document.querySelector(`+js(tweetSel(live))+`) !== null`)
	b.do("like a tweet", chromedp.Click(chromedp.CSS(tweetSel(ids[seedUsers[1].posts[1]])+" .like")))
	b.waitFor("every like count", `document.querySelector(`+js(tweetSel(mine)+" .likes")+`).textContent === "2" &&
		document.querySelector(`+js(tweetSel(ids[likes[0].text])+" .likes")+`).textContent === "3" &&
		document.querySelector(`+js(tweetSel(ids[seedUsers[1].posts[1]])+" .likes")+`).textContent === "1"`)

	// The page shows exactly the server's feed, in its order, with its counts.
	server := serverFeed(ctx, t, wsURL, "katherine", "katherine-password")
	type shown struct {
		ID    string `json:"id"`
		Likes string `json:"likes"`
	}
	page := eval[[]shown](b, `Array.from(document.querySelectorAll("#feed .tweet")).map(e =>
		({id: e.dataset.id, likes: e.querySelector(".likes").textContent}))`)
	if len(page) != len(server) {
		t.Fatalf("page shows %d tweets, server feed has %d", len(page), len(server))
	}
	for i := range server {
		if page[i].ID != server[i].ID || page[i].Likes != strconv.FormatInt(server[i].Likes, 10) {
			t.Errorf("feed[%d]: page shows %s with %s likes, server has %s with %d", i, page[i].ID, page[i].Likes, server[i].ID, server[i].Likes)
		}
	}

	// Settle the entry animations and the focus ring before the pictures.
	b.waitFor("animations to end", `document.querySelector(".tweet.enter") === null`)
	eval[chromedp.Void](b, `document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`)
	b.do("move the mouse off the feed", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 2, 2))
	draft := "Reading the Apollo guidance computer listings tonight. "
	b.do("type a draft", chromedp.SendKeys(chromedp.ID("compose-text"), draft))
	if got, want := eval[string](b, `document.getElementById("counter").textContent`), strconv.Itoa(280-len(draft)); got != want {
		t.Errorf("counter shows %s for a %d-character draft, want %s", got, len(draft), want)
	}
	eval[chromedp.Void](b, `document.activeElement && document.activeElement.blur()`)
	b.shot("feed")
	if *updateDocs {
		src := filepath.Join(b.out, "readme-feed.png")
		png, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("read %s: %v", src, err)
		}
		if err := os.MkdirAll(filepath.Join("..", "docs"), 0o755); err != nil {
			t.Fatalf("create docs folder: %v", err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "screenshot.png"), png, 0o644); err != nil {
			t.Fatalf("write docs/screenshot.png: %v", err)
		}
	}
	b.do("phone width", chromedp.EmulateViewport(375, 760))
	if w := eval[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		t.Errorf("the feed at 375 px scrolls sideways by %d px", w)
	}
	b.shot("feed-phone")
}

func post(ctx context.Context, t *testing.T, c *loadcheck.Conn, text string) string {
	t.Helper()
	r, err := c.Do(ctx, "post", map[string]any{"text": text})
	if err != nil {
		t.Fatalf("post %q: %v", text, err)
	}
	var tw loadcheck.Tweet
	if err := r.Decode("tweet", &tw); err != nil {
		t.Fatal(err)
	}
	return tw.ID
}

// serverFeed reads an account's feed over its own WebSocket.
func serverFeed(ctx context.Context, t *testing.T, wsURL, handle, password string) []loadcheck.Tweet {
	t.Helper()
	c, err := loadcheck.Dial(ctx, wsURL)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if _, err := c.Do(ctx, "login", map[string]any{"handle": handle, "password": password}); err != nil {
		t.Fatalf("log in %s: %v", handle, err)
	}
	r, err := c.Do(ctx, "feed", map[string]any{"limit": 200})
	if err != nil {
		t.Fatalf("feed of %s: %v", handle, err)
	}
	var tweets []loadcheck.Tweet
	if err := r.Decode("tweets", &tweets); err != nil {
		t.Fatal(err)
	}
	return tweets
}
