package e2e

import (
	"github.com/chromedp/chromedp"
)

// The steps a person takes in the web client, as the page's selectors see
// them. Each waits for the page to show the result before returning.

// open loads the client and waits for its socket to be up.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
	b.waitFor("the connection to be live", `document.body.dataset.conn === "online"`)
}

// signUp creates an account through the sign-up form.
func (b *browser) signUp(handle, password string) {
	b.t.Helper()
	b.submitAuth("tab-signup", handle, password)
	b.waitFor("the home view after sign-up", `document.body.dataset.view === "app" && window.chirp.state().authed && window.chirp.state().feedReads > 0`)
}

// logIn logs in through the log-in form.
func (b *browser) logIn(handle, password string) {
	b.t.Helper()
	b.submitAuth("tab-login", handle, password)
	b.waitFor("the home view after log-in", `document.body.dataset.view === "app" && window.chirp.state().authed && window.chirp.state().feedReads > 0`)
}

// authError submits the form on tab and returns the error it shows.
func (b *browser) authError(tab, handle, password string) string {
	b.t.Helper()
	b.submitAuth(tab, handle, password)
	b.waitFor("an error on the form", `!document.getElementById("auth-error").hidden && !document.getElementById("auth-submit").disabled`)
	return eval[string](b, `document.getElementById("auth-error").textContent`)
}

func (b *browser) submitAuth(tab, handle, password string) {
	b.t.Helper()
	b.do("open the "+tab+" form", chromedp.WaitVisible(chromedp.ID("auth-form")), chromedp.Click(chromedp.ID(tab)))
	eval[chromedp.Void](b, `document.getElementById("auth-handle").value = ""; document.getElementById("auth-password").value = ""`)
	b.do("fill the "+tab+" form",
		chromedp.SendKeys(chromedp.ID("auth-handle"), handle),
		chromedp.SendKeys(chromedp.ID("auth-password"), password),
		chromedp.Click(chromedp.ID("auth-submit")),
	)
}

// follow follows handle through the follow form and returns the message
// the page shows.
func (b *browser) follow(handle string) (msg string, ok bool) {
	b.t.Helper()
	eval[chromedp.Void](b, `document.getElementById("follow-handle").value = ""`)
	b.do("follow "+handle,
		chromedp.SendKeys(chromedp.ID("follow-handle"), handle),
		chromedp.Click(chromedp.ID("follow-btn")),
	)
	b.waitFor("the follow result", `!document.getElementById("follow-msg").hidden && !document.getElementById("follow-btn").disabled`)
	type result struct {
		Text string `json:"text"`
		OK   bool   `json:"ok"`
	}
	r := eval[result](b, `(() => { const m = document.getElementById("follow-msg");
		return {text: m.textContent, ok: m.classList.contains("ok")}; })()`)
	return r.Text, r.OK
}

// post types text into the composer, posts it and returns the new tweet's
// id once the page shows it.
func (b *browser) post(text string) string {
	b.t.Helper()
	before := eval[int](b, `window.chirp.state().tweets`)
	b.do("post "+text,
		chromedp.SendKeys(chromedp.ID("compose-text"), text),
		chromedp.Click(chromedp.ID("post")),
	)
	b.waitFor("the posted tweet in the feed", `document.getElementById("compose-text").value === "" &&
		Array.from(document.querySelectorAll("#feed .tweet-text")).some(e => e.textContent === `+js(text)+`)`)
	if n := eval[int](b, `window.chirp.state().tweets`); n != before+1 {
		b.t.Fatalf("%s: feed has %d tweets after posting, want %d", b.name, n, before+1)
	}
	return b.tweetIDByText(text)
}

// tweetIDByText returns the id of the one tweet in the feed showing text.
func (b *browser) tweetIDByText(text string) string {
	b.t.Helper()
	ids := eval[[]string](b, `Array.from(document.querySelectorAll("#feed .tweet"))
		.filter(e => e.querySelector(".tweet-text").textContent === `+js(text)+`).map(e => e.dataset.id)`)
	if len(ids) != 1 {
		b.t.Fatalf("%s: %d tweets show %q, want 1 (ids %v)", b.name, len(ids), text, ids)
	}
	return ids[0]
}

// tweetSel selects the feed entry of a tweet.
func tweetSel(id string) string { return `#feed .tweet[data-id=` + js(id) + `]` }

// countOf counts the feed entries of a tweet.
func (b *browser) countOf(id string) int {
	b.t.Helper()
	return eval[int](b, `document.querySelectorAll(`+js(tweetSel(id))+`).length`)
}

// likesOf returns the like count the page shows for a tweet.
func (b *browser) likesOf(id string) string {
	b.t.Helper()
	return eval[string](b, `document.querySelector(`+js(tweetSel(id)+` .likes`)+`).textContent`)
}

// pageState is what window.chirp.state() reports.
type pageState struct {
	Conn       string `json:"conn"`
	Authed     bool   `json:"authed"`
	Handle     string `json:"handle"`
	Seq        int    `json:"seq"`
	Tweets     int    `json:"tweets"`
	Reconnects int    `json:"reconnects"`
	FeedReads  int    `json:"feedReads"`
}

func (b *browser) state() pageState {
	b.t.Helper()
	return eval[pageState](b, `window.chirp.state()`)
}
