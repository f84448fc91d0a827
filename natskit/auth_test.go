package natskit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chirp/contract"
	"chirp/natskit"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const waitFor = 10 * time.Second // upper bound on any single wait

// authServer starts an embedded server that admits only Chirp's users,
// with the streams created by the operator.
func authServer(t *testing.T) (*server.Server, natskit.Users) {
	t.Helper()
	users, err := natskit.NewUsers()
	if err != nil {
		t.Fatal(err)
	}
	s, err := natskit.StartServer(natskit.ServerConfig{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	op, _ := connectAs(t, s, users, natskit.RoleOperator)
	js, err := jetstream.New(op)
	if err != nil {
		t.Fatal(err)
	}
	if err := natskit.EnsureStreams(context.Background(), js, 1); err != nil {
		t.Fatal(err)
	}
	return s, users
}

// connectAs connects as role; the channel receives the connection's
// asynchronous errors (permission violations).
func connectAs(t *testing.T, s *server.Server, users natskit.Users, r natskit.Role) (*nats.Conn, <-chan error) {
	t.Helper()
	errs := make(chan error, 64)
	opts := append(users[r].Options(),
		nats.CustomInboxPrefix(natskit.InboxPrefix(r)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	nc, err := natskit.Connect(s.ClientURL(), string(r), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !nc.IsConnected() {
		// Connect retries in the background; credentials that are refused
		// never connect.
		deadline := time.Now().Add(waitFor)
		for !nc.IsConnected() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

// violation waits for a permission violation naming subject.
func violation(t *testing.T, errs <-chan error, kind, subject string) {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case err := <-errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), kind) && strings.Contains(err.Error(), `"`+subject+`"`) {
				return
			}
		case <-timeout:
			t.Fatalf("no permission violation for %s to %q", kind, subject)
		}
	}
}

// stored reports whether the CHIRP stream holds a message on subject.
func stored(t *testing.T, js jetstream.JetStream, subject string) bool {
	t.Helper()
	st, err := js.Stream(context.Background(), contract.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.GetLastMsgForSubject(context.Background(), subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestGatewayCredentialsCannotForgeDerivedEvents(t *testing.T) {
	s, users := authServer(t)
	op, _ := connectAs(t, s, users, natskit.RoleOperator)
	opJS, _ := jetstream.New(op)
	gw, errs := connectAs(t, s, users, natskit.RoleGateway)
	gwJS, _ := jetstream.New(gw)
	ctx := context.Background()

	// What the gateway does publish is stored: the check below can see a
	// stored message.
	if _, err := gwJS.Publish(ctx, contract.Subject(contract.EvtGatewayStarted, "gwtest"), []byte(`{"gateway":"gwtest"}`)); err != nil {
		t.Fatalf("gateway publishing its started event: %v", err)
	}
	if !stored(t, opJS, contract.Subject(contract.EvtGatewayStarted, "gwtest")) {
		t.Fatal("the gateway's own event is not on the stream")
	}

	forged := []string{
		contract.Subject(contract.EvtTweetPosted, "x"),
		contract.Subject(contract.EvtTweetLiked, "x"),
		contract.Subject(contract.EvtUserCreated, "x"),
		contract.Subject(contract.EvtUserFollowed, "x"),
		contract.Subject(contract.CmdPost, "x"),
		contract.Subject(contract.CmdSignup, "x"),
		contract.PushSubject("x"),
	}
	for _, subj := range forged {
		m := nats.NewMsg(subj)
		m.Data = []byte(`{"tweet":{"id":"x-00000001","author":"x","text":"forged"}}`)
		m.Header.Set(contract.HeaderMsgID, "forged:"+subj)
		if err := gw.PublishMsg(m); err != nil {
			t.Fatalf("publish %s: %v", subj, err)
		}
		violation(t, errs, "Publish", subj)
	}
	// Through the JetStream API too: no acknowledgement comes.
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err := gwJS.Publish(pctx, contract.Subject(contract.EvtTweetPosted, "x"), []byte(`{}`))
	cancel()
	if err == nil {
		t.Error("a JetStream publish of a forged tweet.posted was acknowledged")
	}
	for _, subj := range forged {
		if strings.HasPrefix(subj, "chirp.push.") {
			continue // not a stream subject
		}
		if stored(t, opJS, subj) {
			t.Errorf("forged %s is on the stream", subj)
		}
	}
	// Nor can it touch the stream through the API.
	for _, subj := range []string{
		"$JS.API.STREAM.PURGE." + contract.StreamName,
		"$JS.API.STREAM.DELETE." + contract.StreamName,
		"$JS.API.STREAM.UPDATE." + contract.StreamName,
		"$JS.API.CONSUMER.CREATE." + contract.StreamName + ".spy",
		"$JS.API.CONSUMER.DELETE." + contract.StreamName + ".feed",
	} {
		if err := gw.Publish(subj, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		violation(t, errs, "Publish", subj)
	}
	if _, err := opJS.Stream(ctx, contract.StreamName); err != nil {
		t.Fatalf("stream after the attempts: %v", err)
	}
}

func TestGatewayCredentialsCannotReadEvents(t *testing.T) {
	s, users := authServer(t)
	op, _ := connectAs(t, s, users, natskit.RoleOperator)
	gw, errs := connectAs(t, s, users, natskit.RoleGateway)

	events := make(chan *nats.Msg, 16)
	if _, err := gw.ChanSubscribe("chirp.evt.>", events); err != nil {
		t.Fatal(err)
	}
	violation(t, errs, "Subscription", "chirp.evt.>")
	for _, subj := range []string{"chirp.>", ">", "chirp.cmd.>", "_INBOX.user.>", "$JS.API.>"} {
		if _, err := gw.ChanSubscribe(subj, events); err != nil {
			t.Fatal(err)
		}
		violation(t, errs, "Subscription", subj)
	}
	// A push it may read, sent after an event it may not: once the push
	// is in, the event would have been too (one publisher, one order).
	pushes := make(chan *nats.Msg, 1)
	if _, err := gw.ChanSubscribe(contract.PushSubject("probe"), pushes); err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := op.Publish(contract.Subject(contract.EvtTweetPosted, "carol"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := op.Publish(contract.PushSubject("probe"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pushes:
	case <-time.After(waitFor):
		t.Fatal("the gateway did not receive a push")
	}
	select {
	case m := <-events:
		t.Fatalf("the gateway received %s", m.Subject)
	default:
	}
}

// TestServicesPublishOnlyTheirOwn pins each role's publish rights on
// Chirp's subjects.
func TestServicesPublishOnlyTheirOwn(t *testing.T) {
	s, users := authServer(t)
	all := []string{
		"chirp.cmd.user.signup.x", "chirp.cmd.user.follow.x", "chirp.evt.user.created.x", "chirp.evt.user.followed.x",
		"chirp.cmd.tweet.post.x", "chirp.cmd.tweet.like.x", "chirp.evt.tweet.posted.x", "chirp.evt.tweet.liked.x",
		"chirp.push.x", "chirp.evt.gateway.presence.x", "chirp.evt.gateway.started.x",
		"chirp.dlq.user", "chirp.dlq.tweet", "chirp.dlq.feed",
	}
	own := map[natskit.Role][]string{
		natskit.RoleUser:    {"chirp.cmd.user.signup.x", "chirp.cmd.user.follow.x", "chirp.evt.user.created.x", "chirp.evt.user.followed.x", "chirp.dlq.user"},
		natskit.RoleTweet:   {"chirp.cmd.tweet.post.x", "chirp.cmd.tweet.like.x", "chirp.evt.tweet.posted.x", "chirp.evt.tweet.liked.x", "chirp.dlq.tweet"},
		natskit.RoleFeed:    {"chirp.push.x", "chirp.dlq.feed"},
		natskit.RoleGateway: {"chirp.evt.gateway.presence.x", "chirp.evt.gateway.started.x"},
	}
	for role, mine := range own {
		t.Run(string(role), func(t *testing.T) {
			nc, errs := connectAs(t, s, users, role)
			for _, subj := range all {
				if err := nc.Publish(subj, []byte(`{}`)); err != nil {
					t.Fatal(err)
				}
				if !containsStr(mine, subj) {
					violation(t, errs, "Publish", subj)
				}
			}
			// The allowed ones raised nothing.
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-errs:
				t.Errorf("unexpected error: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestServerRefusesUnknownOrMissingCredentials(t *testing.T) {
	s, users := authServer(t)
	for name, opts := range map[string][]nats.Option{
		"none":           nil,
		"wrong password": {nats.UserInfo(users[natskit.RoleOperator].User, "not it")},
		"unknown user":   {nats.UserInfo("mallory", users[natskit.RoleOperator].Password)},
	} {
		nc, err := nats.Connect(s.ClientURL(), opts...)
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected", name)
		} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("%s: %v, want an authorization error", name, err)
		}
	}
}

func TestUsersFileIsPrivateAndStable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nats-users.json")
	u1, err := natskit.LoadOrCreateUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range natskit.Roles {
		if c := u1[r]; c.User != natskit.UserName(r) || len(c.Password) < 32 {
			t.Errorf("%s: %+v", r, c)
		}
	}
	if u1[natskit.RoleGateway].Password == u1[natskit.RoleFeed].Password {
		t.Error("two roles share a password")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v, want 0600", fi.Mode().Perm())
	}
	u2, err := natskit.LoadOrCreateUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range natskit.Roles {
		if u1[r] != u2[r] {
			t.Errorf("%s changed on reload", r)
		}
	}
	// A file missing a role gets it added, keeping the rest.
	if err := os.WriteFile(path, []byte(`{"operator":{"user":"chirp-operator","password":"kept-password"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	u3, err := natskit.LoadOrCreateUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if u3[natskit.RoleOperator].Password != "kept-password" || u3[natskit.RoleFeed].Password == "" {
		t.Errorf("partial file: %+v", u3)
	}
	if err := os.WriteFile(path, []byte(`not json`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := natskit.LoadOrCreateUsers(path); err == nil {
		t.Error("a corrupt users file was accepted")
	}

	env := filepath.Join(dir, "nats.env")
	if err := natskit.WriteCLIEnv(env, "nats://127.0.0.1:4222", natskit.Credentials{User: "chirp-operator", Password: "it's"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export NATS_URL='nats://127.0.0.1:4222'\n", "export NATS_USER='chirp-operator'\n", `export NATS_PASSWORD='it'\''s'` + "\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("nats.env lacks %q:\n%s", want, b)
		}
	}
	if fi, _ := os.Stat(env); fi.Mode().Perm() != 0o600 {
		t.Errorf("nats.env mode %v, want 0600", fi.Mode().Perm())
	}
}
