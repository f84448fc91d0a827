package stack_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"chirp/gateway"

	"github.com/gorilla/websocket"
)

// Frame-level behaviour of the gateway: close codes, the size limit, and
// replies packed into arrays.

func TestBinaryFrameClosesWith1003(t *testing.T) {
	url := startStack(t, nil)
	r := dialRaw(t, url)
	r.send(websocket.BinaryMessage, []byte(`{"id":"1","op":"feed"}`))
	if code := r.closeCode(); code != websocket.CloseUnsupportedData {
		t.Errorf("close code %d, want 1003", code)
	}
}

func TestFrameOver64KiBClosesWith1009(t *testing.T) {
	url := startStack(t, nil)
	r := dialRaw(t, url)
	r.sendText(paddedFrame(t, `{"id":"big","op":"nope"}`, gateway.MaxFrame+1))
	if code := r.closeCode(); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
}

func TestFrameOfExactly64KiBIsServed(t *testing.T) {
	url := startStack(t, nil)
	r := dialRaw(t, url)
	r.sendText(paddedFrame(t, `{"id":"edge","op":"nope"}`, gateway.MaxFrame))
	rep := r.reply()
	if re, _ := rep.str("re"); re != "edge" || rep.errorCode() != "unknown_op" {
		t.Errorf("reply %v: want unknown_op for re edge", rep)
	}
	// A text of 280 four-byte characters fits easily in a frame.
	h := newHandle("bigtext")
	r.sendText(`{"id":"s","op":"signup","handle":"` + h + `","password":"` + testPassword + `"}`)
	if rep := r.reply(); string(rep["ok"]) != "true" {
		t.Fatalf("signup: %v", rep)
	}
	r.sendText(`{"id":"p","op":"post","text":"` + strings.Repeat("😀", 280) + `"}`)
	// The post's reply and its push to the author may come in either order.
	var sawReply bool
	for !sawReply {
		objs, _ := r.readFrame()
		for _, o := range objs {
			if re, ok := o.str("re"); ok && re == "p" {
				sawReply = true
				if string(o["ok"]) != "true" {
					t.Errorf("post of 280 emoji: %v", o)
				}
			}
		}
	}
}

// paddedFrame pads a JSON object with spaces before its closing brace to
// exactly size bytes.
func paddedFrame(t *testing.T, obj string, size int) string {
	t.Helper()
	pad := size - len(obj)
	if pad < 0 {
		t.Fatalf("object longer than %d", size)
	}
	f := obj[:len(obj)-1] + strings.Repeat(" ", pad) + "}"
	if len(f) != size {
		t.Fatalf("padded frame is %d bytes, want %d", len(f), size)
	}
	return f
}

func TestPipelinedRequestsAreEachAnsweredOnceSingleOrBatched(t *testing.T) {
	url := startStack(t, nil)
	r := dialRaw(t, url)
	const n = 200
	// The client may send without waiting; unknown ops are answered by the
	// gateway itself, in order.
	var b strings.Builder
	for i := range n {
		b.Reset()
		fmt.Fprintf(&b, `{"id":"%d","op":"op%d"}`, i, i)
		r.sendText(b.String())
	}
	next, arrays := 0, 0
	for next < n {
		objs, batched := r.readFrame()
		if batched {
			arrays++
			if len(objs) < 2 {
				t.Errorf("an array frame of %d objects", len(objs))
			}
		}
		for _, o := range objs {
			re, _ := o.str("re")
			if re != strconv.Itoa(next) || o.errorCode() != "unknown_op" {
				t.Fatalf("object %v: want unknown_op reply to %d", o, next)
			}
			next++
		}
	}
	t.Logf("%d replies came in %d array frames and the rest singly", n, arrays)
}

func TestEmptyIDIsABadRequest(t *testing.T) {
	url := startStack(t, nil)
	r := dialRaw(t, url)
	r.sendText(`{"id":"","op":"feed"}`)
	rep := r.reply()
	if rep.errorCode() != "bad_request" {
		t.Errorf("reply %v: want bad_request", rep)
	}
	if re, ok := rep.str("re"); ok && re != "" {
		t.Errorf("reply re %q to an empty id", re)
	}
}
