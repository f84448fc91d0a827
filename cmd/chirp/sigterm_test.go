package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// `chirp run` as a user runs it: a real process with its own embedded NATS
// and data folder. SIGTERM closes every socket with 1001 and exits 0 within
// the shutdown bound; the next start on the same data folder has
// everything that was acknowledged.

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func buildChirp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chirp")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runChirp starts `chirp run`, with env added to its environment, and
// waits until its gateway is healthy.
func runChirp(t *testing.T, bin, data, httpAddr string, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, "run")
	cmd.Env = append(cmd.Environ(), "CHIRP_HTTP_ADDR="+httpAddr, "CHIRP_NATS_LISTEN="+freeAddr(t),
		"CHIRP_DATA_DIR="+data, "CHIRP_BCRYPT_COST=4")
	cmd.Env = append(cmd.Env, env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for probeOnce(httpAddr) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("chirp run not healthy within 30s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cmd, &logs
}

func probeOnce(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

// wsCall sends one request and returns its reply, skipping pushes.
func wsCall(t *testing.T, c *websocket.Conn, req map[string]any) map[string]any {
	t.Helper()
	if err := c.WriteJSON(req); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read reply to %v: %v", req["op"], err)
		}
		var objs []map[string]any
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
			err = json.Unmarshal(data, &objs)
		} else {
			var one map[string]any
			err = json.Unmarshal(data, &one)
			objs = append(objs, one)
		}
		if err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		for _, o := range objs {
			if o["re"] == req["id"] {
				if o["ok"] != true {
					t.Fatalf("%v failed: %v", req["op"], o["error"])
				}
				return o
			}
		}
	}
}

func TestSIGTERMClosesSocketsWith1001AndExits0AndDataSurvives(t *testing.T) {
	bin := buildChirp(t)
	data, addr := t.TempDir(), freeAddr(t)
	cmd, logs := runChirp(t, bin, data, addr)

	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wsCall(t, c, map[string]any{"id": "1", "op": "signup", "handle": "sigterm_alice", "password": "correct horse"})
	posted := wsCall(t, c, map[string]any{"id": "2", "op": "post", "text": "before the restart"})
	tweetID := posted["tweet"].(map[string]any)["id"]

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, _, err = c.ReadMessage()
		if err != nil {
			break
		}
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("socket ended with %v, want a close frame 1001 (going away)", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("chirp run after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("chirp run still running 15s after SIGTERM:\n%s", logs.String())
	}
	t.Logf("exit 0 %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	if strings.Contains(logs.String(), "correct horse") {
		t.Error("the password appears in the logs")
	}

	// Same data folder: the account and its tweet are still there.
	runChirp(t, bin, data, addr)
	c2, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	wsCall(t, c2, map[string]any{"id": "1", "op": "login", "handle": "sigterm_alice", "password": "correct horse"})
	feed := wsCall(t, c2, map[string]any{"id": "2", "op": "feed"})
	tweets, _ := feed["tweets"].([]any)
	if len(tweets) != 1 || tweets[0].(map[string]any)["id"] != tweetID {
		t.Errorf("feed after restart = %v, want the one tweet %v", feed["tweets"], tweetID)
	}
}
