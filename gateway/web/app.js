// Chirp web client. Speaks WebSocket protocol v1 with the gateway that
// serves this page (README, "WebSocket protocol"): one socket, requests
// {"id","op",...} answered by {"re",...}, pushes {"push","seq",...}, and
// frames that are either one such object or a JSON array of them.
//
// Invariants:
// - The feed shown is a set keyed by tweet id, ordered like the server's
//   feed (at descending, then id descending): a tweet seen twice, by reply,
//   push or re-read, is shown once with the newest like count.
// - After every (re)connection with a stored token the socket is
//   re-authenticated, then the feed is re-read and merged, so tweets that
//   arrived while offline show up without duplicates.
// - The token lives in sessionStorage only.
(function () {
  "use strict";

  var MAX_TEXT = 280;
  var HANDLE_RE = /^[A-Za-z0-9_]{1,30}$/;
  var REQUEST_TIMEOUT_MS = 15000;
  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 15000;
  var FEED_PAGE = 50;
  var STORE_KEY = "chirp.session";

  var $ = function (id) { return document.getElementById(id); };

  // ---- Session storage -------------------------------------------------

  var store = {
    load: function () {
      try {
        var s = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
        if (s && typeof s.handle === "string" && typeof s.token === "string") {
          if (!Array.isArray(s.liked)) s.liked = [];
          if (typeof s.seq !== "number") s.seq = 0;
          return s;
        }
      } catch (e) { /* storage unavailable or corrupt: start signed out */ }
      return null;
    },
    save: function (s) {
      try {
        if (s) sessionStorage.setItem(STORE_KEY, JSON.stringify(s));
        else sessionStorage.removeItem(STORE_KEY);
      } catch (e) { /* private mode: the session lasts as long as the page */ }
    }
  };

  // ---- State -----------------------------------------------------------

  var session = store.load(); // {handle, token, seq, liked[]} or null
  var liked = new Set(session ? session.liked : []);
  var ws = null;
  var conn = "connecting";   // connecting | online | offline
  var authed = false;        // the current socket acts as session.handle
  var attempt = 0;           // failed connection attempts in a row
  var retryTimer = null;
  var retryAt = 0;
  var holdUntil = 0;         // debug hook: stay offline until then
  var tickTimer = null;
  var nextId = 0;
  var pending = new Map();   // request id -> {resolve, reject, timer}
  var socketSeq = 0;         // last push seq seen on the current socket
  var stats = { reconnects: 0, feedReads: 0, opens: 0 };

  var tweets = new Map();    // id -> {t, el}
  var olderCursor = null;    // "before" for the next older page
  var pagedOlder = false;    // an older page was loaded by hand
  var refreshTimer = null;

  // ---- Errors in plain words -------------------------------------------

  function ChirpError(code, message, retryAfterMs) {
    this.code = code;
    this.message = message || code;
    this.retryAfterMs = retryAfterMs || 0;
  }

  function plain(err, ctx, subject) {
    var text;
    switch (err.code) {
      case "offline":
        text = "You're offline. Chirp reconnects on its own; try again in a moment."; break;
      case "timeout":
        text = "Chirp took too long to answer. Try again."; break;
      case "bad_request":
        text = "Chirp couldn't read that request. Reloading the page may help."; break;
      case "unknown_op":
        text = "This page is out of date. Reload it to get the latest version."; break;
      case "unauthenticated":
        text = ctx === "login"
          ? "That handle and password don't match an account."
          : "You're signed out. Please log in again.";
        break;
      case "invalid":
        if (ctx === "post") text = "A chirp has to be 1 to 280 characters.";
        else if (ctx === "signup" || ctx === "login") text = "Handles are 1 to 30 letters, digits or underscores, and passwords 8 to 72 characters.";
        else if (ctx === "follow" && /yourself/i.test(err.message)) text = "That's you. You can't follow yourself.";
        else text = sentence(err.message);
        break;
      case "not_found":
        if (ctx === "follow") text = "There's no account called @" + subject + ".";
        else if (ctx === "like") text = "That chirp no longer exists.";
        else text = "We couldn't find that.";
        break;
      case "conflict":
        text = "The handle @" + subject + " is already taken. Try another one."; break;
      case "unavailable":
        text = "Chirp is having trouble right now. Try again in a moment."; break;
      case "internal":
        text = "Something went wrong on Chirp's side. Try again."; break;
      default:
        text = sentence(err.message) || "Something went wrong. Try again.";
    }
    if (err.retryAfterMs > 0) {
      text += " You can try again in " + Math.ceil(err.retryAfterMs / 1000) + " s.";
    }
    return text;
  }

  function sentence(s) {
    s = String(s || "").trim();
    if (!s) return "";
    s = s.charAt(0).toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : s + ".";
  }

  // ---- Connection ------------------------------------------------------

  function wsURL() {
    var u = new URL("ws", location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.hash = "";
    u.search = "";
    return u.toString();
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    setConn("connecting");
    var sock;
    try {
      sock = new WebSocket(wsURL());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = function () {
      if (ws !== sock) return;
      attempt = 0;
      socketSeq = 0;
      stats.opens++;
      if (stats.opens > 1) stats.reconnects++;
      setConn("online");
      onOpen(); // its auth goes out before any request that waited
      settleOpenWaiters(true);
    };
    sock.onmessage = function (ev) {
      if (ws === sock) onFrame(ev.data);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null;
      lostSocket();
      settleOpenWaiters(false);
      scheduleReconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  // lostSocket fails every request in flight: their replies cannot come.
  function lostSocket() {
    authed = false;
    document.body.dataset.authed = "false";
    pending.forEach(function (p) {
      clearTimeout(p.timer);
      p.reject(new ChirpError("offline", "connection lost"));
    });
    pending.clear();
  }

  function scheduleReconnect() {
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    var delay = base / 2 + Math.random() * base / 2;
    attempt++;
    delay = Math.max(delay, holdUntil - Date.now());
    retryAt = Date.now() + delay;
    setConn("offline");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }

  // reconnectSoon skips the rest of the backoff wait, e.g. when the
  // browser says the network is back.
  function reconnectSoon() {
    if (conn !== "offline" || Date.now() < holdUntil) return;
    attempt = 0;
    connect();
  }

  function setConn(state) {
    conn = state;
    document.body.dataset.conn = state;
    clearInterval(tickTimer);
    tickTimer = null;
    renderConn();
    if (state === "offline") tickTimer = setInterval(renderConn, 1000);
  }

  function renderConn() {
    var text = "Connecting…";
    var detail = "";
    if (conn === "online") text = "Live";
    if (conn === "offline") {
      var s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      text = "Offline";
      detail = s > 0 ? " · retry in " + s + " s" : " · retrying";
    }
    $("conn-text").textContent = text;
    $("conn-detail").textContent = detail;
    $("conn").title = conn === "online"
      ? "Connected: new chirps appear as they are posted"
      : "Not connected: Chirp keeps trying to reconnect";
  }

  // whenOpen resolves once the socket is open: at once when it is, after
  // the handshake while connecting (a click right after the page loads),
  // and never while offline, when it rejects straight away.
  var openWaiters = [];
  function whenOpen() {
    if (ws && ws.readyState === WebSocket.OPEN) return Promise.resolve();
    if (conn !== "connecting") return Promise.reject(new ChirpError("offline", "not connected"));
    return new Promise(function (resolve, reject) {
      openWaiters.push(function (ok) {
        if (ok) resolve();
        else reject(new ChirpError("offline", "not connected"));
      });
    });
  }

  function settleOpenWaiters(ok) {
    var waiters = openWaiters;
    openWaiters = [];
    waiters.forEach(function (w) { w(ok); });
  }

  function request(op, fields) {
    return whenOpen().then(function () { return send(op, fields); });
  }

  function send(op, fields) {
    return new Promise(function (resolve, reject) {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new ChirpError("offline", "not connected"));
        return;
      }
      var id = "c" + (++nextId);
      var msg = Object.assign({ id: id, op: op }, fields || {});
      var timer = setTimeout(function () {
        if (pending.delete(id)) reject(new ChirpError("timeout", "no reply"));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, { resolve: resolve, reject: reject, timer: timer });
      try {
        ws.send(JSON.stringify(msg));
      } catch (e) {
        clearTimeout(timer);
        pending.delete(id);
        reject(new ChirpError("offline", "send failed"));
      }
    });
  }

  function onFrame(data) {
    var v;
    try {
      v = JSON.parse(data);
    } catch (e) {
      console.warn("chirp: ignoring a frame that is not JSON", e);
      return;
    }
    var items = Array.isArray(v) ? v : [v];
    for (var i = 0; i < items.length; i++) {
      var m = items[i];
      if (!m || typeof m !== "object") continue;
      try {
        onMessage(m);
      } catch (e) {
        console.error("chirp: could not handle a message", m, e);
      }
    }
  }

  function onMessage(m) {
    if (typeof m.re === "string") {
      var p = pending.get(m.re);
      if (!p) return; // answered after we gave up on it
      pending.delete(m.re);
      clearTimeout(p.timer);
      if (m.ok === true) p.resolve(m);
      else p.reject(errorOf(m));
      return;
    }
    if (typeof m.push === "string") {
      onPush(m);
      return;
    }
    if (m.ok === false) showBanner(plain(errorOf(m)));
  }

  function errorOf(m) {
    var e = m.error || {};
    return new ChirpError(String(e.code || "internal"), String(e.message || ""), Number(e.retry_after_ms) || 0);
  }

  function onPush(m) {
    if (!authed) return;
    if (typeof m.seq === "number") {
      // A gap on one socket means a push went missing: re-read the feed.
      if (socketSeq > 0 && m.seq > socketSeq + 1) refreshSoon();
      socketSeq = m.seq;
      session.seq = m.seq;
      store.save(session);
    }
    if (m.push === "tweet" && m.tweet && typeof m.tweet.id === "string") {
      upsert(m.tweet, true);
    } else if (m.push === "likes" && typeof m.tweet === "string" && typeof m.likes === "number") {
      setLikes(m.tweet, m.likes, true);
    }
  }

  // onOpen re-authenticates a returning session and re-reads its feed.
  function onOpen() {
    if (!session) {
      showAuth();
      return;
    }
    var fields = { token: session.token };
    // "since" is the last push seq seen; the gateway ignores fields it
    // does not know, and a gateway that resumes pushes uses it.
    if (session.seq > 0) fields.since = session.seq;
    setFeedNote("Catching up…");
    send("auth", fields).then(function () {
      authed = true;
      document.body.dataset.authed = "true";
      showApp();
      return refreshFeed();
    }).catch(function (err) {
      if (err.code === "unauthenticated") {
        logout("Your session has ended. Please log in again.");
        return;
      }
      if (err.code !== "offline") showBanner(plain(err));
    });
  }

  // ---- Feed ------------------------------------------------------------

  function newer(a, b) { // does a sort before b in the feed?
    if (a.at !== b.at) return a.at > b.at;
    return a.id > b.id;
  }

  function refreshFeed() {
    return request("feed", { limit: FEED_PAGE }).then(function (r) {
      var list = Array.isArray(r.tweets) ? r.tweets : [];
      var top = firstTweet();
      for (var i = 0; i < list.length; i++) {
        upsert(list[i], top !== null && newer(list[i], top));
      }
      if (!pagedOlder) olderCursor = typeof r.next === "string" ? r.next : null;
      stats.feedReads++;
      setFeedNote("");
      renderFeedChrome();
    }).catch(function (err) {
      setFeedNote("");
      if (err.code !== "offline") showBanner("Couldn't load your feed. " + plain(err));
      throw err;
    });
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (authed) refreshFeed().catch(function () {});
    }, 300);
  }

  function loadOlder() {
    if (!olderCursor) return;
    var btn = $("more");
    btn.disabled = true;
    request("feed", { limit: FEED_PAGE, before: olderCursor }).then(function (r) {
      var list = Array.isArray(r.tweets) ? r.tweets : [];
      list.forEach(function (t) { upsert(t, false); });
      pagedOlder = true;
      olderCursor = typeof r.next === "string" ? r.next : null;
      renderFeedChrome();
    }).catch(function (err) {
      showBanner("Couldn't load older chirps. " + plain(err));
    }).then(function () { btn.disabled = false; });
  }

  function firstTweet() {
    var el = $("feed").firstElementChild;
    if (!el) return null;
    var e = tweets.get(el.dataset.id);
    return e ? e.t : null;
  }

  function validTweet(t) {
    return t && typeof t.id === "string" && typeof t.author === "string" &&
      typeof t.text === "string" && typeof t.at === "string";
  }

  // upsert shows t once: a known id only takes the newer like count.
  function upsert(t, animate) {
    if (!validTweet(t)) return;
    var have = tweets.get(t.id);
    if (have) {
      if (typeof t.likes === "number") setLikes(t.id, t.likes, false);
      return;
    }
    var entry = { t: { id: t.id, author: t.author, text: t.text, at: t.at, likes: Number(t.likes) || 0 }, el: null };
    entry.el = renderTweet(entry.t);
    tweets.set(t.id, entry);
    var feed = $("feed");
    var before = null;
    for (var el = feed.firstElementChild; el; el = el.nextElementSibling) {
      var other = tweets.get(el.dataset.id);
      if (other && newer(entry.t, other.t)) { before = el; break; }
    }
    feed.insertBefore(entry.el, before);
    if (animate) {
      entry.el.classList.add("enter");
      entry.el.addEventListener("animationend", function done(ev) {
        if (ev.target !== entry.el) return;
        entry.el.classList.remove("enter");
        entry.el.removeEventListener("animationend", done);
      });
    }
    renderFeedChrome();
  }

  function setLikes(id, likes, bump) {
    var e = tweets.get(id);
    if (!e || e.t.likes === likes) return;
    e.t.likes = likes;
    var span = e.el.querySelector(".likes");
    span.textContent = String(likes);
    if (bump) {
      span.classList.remove("bump");
      void span.offsetWidth; // restart the animation
      span.classList.add("bump");
    }
  }

  function renderTweet(t) {
    var el = $("tweet-tpl").content.firstElementChild.cloneNode(true);
    el.dataset.id = t.id;
    el.dataset.author = t.author;
    var av = el.querySelector(".avatar");
    paintAvatar(av, t.author);
    el.querySelector(".tweet-author").textContent = t.author;
    var time = el.querySelector(".tweet-time");
    time.dateTime = t.at;
    time.textContent = ago(t.at);
    var d = new Date(t.at);
    if (!isNaN(d)) time.title = d.toLocaleString();
    el.querySelector(".tweet-text").textContent = t.text;
    var like = el.querySelector(".like");
    like.dataset.id = t.id;
    like.setAttribute("aria-pressed", liked.has(t.id) ? "true" : "false");
    like.title = "Like";
    el.querySelector(".likes").textContent = String(t.likes);
    return el;
  }

  function renderFeedChrome() {
    var empty = tweets.size === 0;
    $("feed-empty").hidden = !empty || !authed;
    $("more").hidden = !olderCursor;
  }

  function setFeedNote(s) { $("feed-note").textContent = s; }

  function clearFeed() {
    tweets.clear();
    $("feed").textContent = "";
    olderCursor = null;
    pagedOlder = false;
  }

  function ago(at) {
    var d = new Date(at);
    if (isNaN(d)) return "";
    var s = (Date.now() - d.getTime()) / 1000;
    if (s < 45) return "now";
    if (s < 3600) return Math.max(1, Math.round(s / 60)) + "m";
    if (s < 86400) return Math.round(s / 3600) + "h";
    var opts = { month: "short", day: "numeric" };
    if (d.getFullYear() !== new Date().getFullYear()) opts.year = "numeric";
    return d.toLocaleDateString(undefined, opts);
  }

  function refreshTimes() {
    var times = document.querySelectorAll(".tweet-time");
    for (var i = 0; i < times.length; i++) times[i].textContent = ago(times[i].dateTime);
  }

  // Avatar colours all carry white text legibly.
  var AVATAR_COLOURS = ["#1d6fd1", "#7045d0", "#c93a62", "#0d7f70", "#c2611a",
    "#2f7d32", "#9c3fb5", "#4553c9", "#b23a2c", "#1f7ea6", "#6b5b2e", "#a13d8f"];

  // Avatar colour is a stable function of the handle, ignoring case.
  function paintAvatar(el, handle) {
    var h = 0;
    var key = handle.toLowerCase();
    for (var i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
    el.style.setProperty("--avatar", AVATAR_COLOURS[h % AVATAR_COLOURS.length]);
    el.textContent = handle.charAt(0);
  }

  // ---- Views -----------------------------------------------------------

  var authMode = "signup";

  function showAuth(message) {
    document.body.dataset.view = "auth";
    $("auth-view").hidden = false;
    $("app-view").hidden = true;
    $("me").hidden = true;
    $("logout").hidden = true;
    setAuthError(message || "");
  }

  function showApp() {
    document.body.dataset.view = "app";
    $("auth-view").hidden = true;
    $("app-view").hidden = false;
    $("me").hidden = false;
    $("me").textContent = "@" + session.handle;
    $("logout").hidden = false;
    paintAvatar($("compose-avatar"), session.handle);
    updateCounter();
    renderFeedChrome();
  }

  function setAuthMode(mode) {
    authMode = mode;
    $("tab-signup").setAttribute("aria-selected", mode === "signup" ? "true" : "false");
    $("tab-login").setAttribute("aria-selected", mode === "login" ? "true" : "false");
    $("auth-submit").textContent = mode === "signup" ? "Create account" : "Log in";
    $("auth-password").autocomplete = mode === "signup" ? "new-password" : "current-password";
    setAuthError("");
  }

  function setAuthError(s) {
    $("auth-error").textContent = s;
    $("auth-error").hidden = !s;
  }

  function submitAuth(ev) {
    ev.preventDefault();
    var handle = $("auth-handle").value.trim();
    var password = $("auth-password").value;
    if (!HANDLE_RE.test(handle)) {
      setAuthError("Handles are 1 to 30 letters, digits or underscores.");
      $("auth-handle").focus();
      return;
    }
    var bytes = new TextEncoder().encode(password).length;
    if (bytes < 8 || bytes > 72) {
      setAuthError("Passwords are 8 to 72 characters.");
      $("auth-password").focus();
      return;
    }
    var op = authMode;
    var btn = $("auth-submit");
    btn.disabled = true;
    setAuthError("");
    request(op, { handle: handle, password: password }).then(function (r) {
      var user = r.user && typeof r.user.handle === "string" ? r.user.handle : handle;
      if (!session || session.handle.toLowerCase() !== user.toLowerCase()) clearFeed();
      session = { handle: user, token: String(r.token || ""), seq: 0, liked: [] };
      liked = new Set();
      store.save(session);
      authed = true;
      document.body.dataset.authed = "true";
      $("auth-password").value = "";
      showApp();
      $("compose-text").focus();
      return refreshFeed();
    }).catch(function (err) {
      if (!authed) setAuthError(plain(err, op, handle));
    }).then(function () { btn.disabled = false; });
  }

  function logout(message) {
    session = null;
    liked = new Set();
    store.save(null);
    authed = false;
    document.body.dataset.authed = "false";
    clearFeed();
    $("compose-text").value = "";
    showAuth(message);
    // A fresh socket, so nothing acts as the old account any more.
    var old = ws;
    ws = null;
    lostSocket();
    if (old) old.close(1000, "log out");
    attempt = 0;
    connect();
  }

  // ---- Composer ----------------------------------------------------------

  // codePoints counts Unicode code points, the unit of the 280 limit
  // (a string's length counts UTF-16 units: an emoji would count twice).
  function codePoints(s) {
    var n = 0;
    for (var it = s[Symbol.iterator](), r = it.next(); !r.done; r = it.next()) n++;
    return n;
  }

  function updateCounter() {
    var text = $("compose-text").value;
    var n = codePoints(text);
    var left = MAX_TEXT - n;
    var c = $("counter");
    c.textContent = String(left);
    c.classList.toggle("warn", left <= 20 && left >= 0);
    c.classList.toggle("over", left < 0);
    c.title = left < 0 ? (-left) + " characters over the limit" : left + " characters left";
    $("post").disabled = n === 0 || left < 0 || text.trim() === "";
  }

  function submitPost(ev) {
    ev.preventDefault();
    var text = $("compose-text").value;
    var n = codePoints(text);
    if (n === 0 || n > MAX_TEXT || text.trim() === "") return;
    var btn = $("post");
    btn.disabled = true;
    setComposeError("");
    request("post", { text: text }).then(function (r) {
      if ($("compose-text").value === text) $("compose-text").value = "";
      if (r.tweet) upsert(r.tweet, true);
    }).catch(function (err) {
      setComposeError(plain(err, "post"));
    }).then(updateCounter);
  }

  function setComposeError(s) {
    $("compose-error").textContent = s;
    $("compose-error").hidden = !s;
  }

  // ---- Follow and like ---------------------------------------------------

  function submitFollow(ev) {
    ev.preventDefault();
    var input = $("follow-handle");
    var handle = input.value.trim().replace(/^@/, "");
    if (!HANDLE_RE.test(handle)) {
      followMsg("Handles are 1 to 30 letters, digits or underscores.", "bad");
      return;
    }
    if (session && handle.toLowerCase() === session.handle.toLowerCase()) {
      followMsg("That's you. You can't follow yourself.", "bad");
      return;
    }
    var btn = $("follow-btn");
    btn.disabled = true;
    followMsg("", "");
    request("follow", { handle: handle }).then(function () {
      input.value = "";
      followMsg("You're following @" + handle + ". Their chirps are in your feed.", "ok");
      return refreshFeed().catch(function () {});
    }).catch(function (err) {
      followMsg(plain(err, "follow", handle), "bad");
    }).then(function () { btn.disabled = false; });
  }

  function followMsg(s, kind) {
    var el = $("follow-msg");
    el.textContent = s;
    el.className = "follow-msg" + (kind ? " " + kind : "");
    el.hidden = !s;
  }

  function onFeedClick(ev) {
    var btn = ev.target.closest(".like");
    if (!btn) return;
    var id = btn.dataset.id;
    if (btn.disabled) return;
    btn.disabled = true;
    request("like", { tweet: id }).then(function (r) {
      liked.add(id);
      if (session) {
        session.liked = Array.from(liked).slice(-1000);
        store.save(session);
      }
      btn.setAttribute("aria-pressed", "true");
      if (typeof r.likes === "number") setLikes(id, r.likes, true);
    }).catch(function (err) {
      showBanner(plain(err, "like"));
    }).then(function () { btn.disabled = false; });
  }

  var bannerTimer = null;
  function showBanner(s) {
    var b = $("banner");
    b.textContent = s;
    b.hidden = !s;
    clearTimeout(bannerTimer);
    if (s) bannerTimer = setTimeout(function () { b.hidden = true; }, 8000);
  }

  // ---- Start -------------------------------------------------------------

  $("tab-signup").addEventListener("click", function () { setAuthMode("signup"); });
  $("tab-login").addEventListener("click", function () { setAuthMode("login"); });
  $("auth-form").addEventListener("submit", submitAuth);
  $("compose").addEventListener("submit", submitPost);
  $("compose-text").addEventListener("input", updateCounter);
  $("compose-text").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) submitPost(ev);
  });
  $("follow").addEventListener("submit", submitFollow);
  $("feed").addEventListener("click", onFeedClick);
  $("more").addEventListener("click", loadOlder);
  $("logout").addEventListener("click", function () { logout(""); });
  window.addEventListener("online", reconnectSoon);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) reconnectSoon();
  });
  setInterval(refreshTimes, 30000);

  if (session) showApp();
  else showAuth();
  connect();

  // Debug and test hook. dropSocket closes the socket as a network failure
  // would; the page then reconnects on its own, after at least holdMs.
  window.chirp = {
    dropSocket: function (holdMs) {
      holdUntil = Date.now() + (Number(holdMs) || 0);
      if (ws) ws.close(4000, "dropped by hand");
    },
    state: function () {
      return {
        conn: conn,
        authed: authed,
        handle: session ? session.handle : null,
        seq: session ? session.seq : 0,
        tweets: tweets.size,
        reconnects: stats.reconnects,
        feedReads: stats.feedReads
      };
    },
    tweetIds: function () {
      return Array.prototype.map.call(document.querySelectorAll("#feed > .tweet"), function (el) { return el.dataset.id; });
    }
  };
})();
