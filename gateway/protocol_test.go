package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"chirp/contract"
)

func TestDecodeRequest(t *testing.T) {
	long := strings.Repeat("i", MaxRequestID)
	tests := []struct {
		name  string
		frame string
		code  string // "" means decoding succeeds
		re    string // the id the reply carries; "-" means none
	}{
		// Well-formed requests.
		{"minimal", `{"id":"1","op":"feed"}`, "", "1"},
		{"surrounding whitespace", " \n\t{\"id\":\"1\",\"op\":\"feed\"} \r\n", "", "1"},
		{"unknown fields are ignored", `{"id":"1","op":"feed","extra":[1,{"a":null}]}`, "", "1"},
		{"id of 128 bytes", `{"id":"` + long + `","op":"x"}`, "", long},
		{"unicode id", `{"id":"é\u00e9✓","op":"x"}`, "", "éé✓"},
		{"unknown op is not decoding's business", `{"id":"1","op":"nope"}`, "", "1"},
		{"empty op decodes", `{"id":"1","op":""}`, "", "1"},
		{"null fields count as absent", `{"id":"1","op":"post","text":null}`, "", "1"},
		{"all fields", `{"id":"1","op":"feed","handle":"h","password":"p","token":"t","text":"x","tweet":"y","limit":5,"before":"c"}`, "", "1"},

		// Not a JSON object at all: no "re".
		{"empty", ``, "bad_request", "-"},
		{"only spaces", `   `, "bad_request", "-"},
		{"text", `hello`, "bad_request", "-"},
		{"array", `[{"id":"1","op":"feed"}]`, "bad_request", "-"},
		{"string", `"id"`, "bad_request", "-"},
		{"null", `null`, "bad_request", "-"},
		{"number", `42`, "bad_request", "-"},
		{"truncated", `{"id":"1","op":"fe`, "bad_request", "-"},
		{"trailing data", `{"id":"1","op":"feed"}{}`, "bad_request", "-"},
		{"unquoted key", `{id:"1"}`, "bad_request", "-"},
		{"no-break space before the object", "\u00a0{\"id\":\"1\",\"op\":\"feed\"}", "bad_request", "-"},
		{"byte order mark", "\ufeff{\"id\":\"1\",\"op\":\"feed\"}", "bad_request", "-"},

		// An object whose id is unusable: no "re".
		{"no id", `{"op":"feed"}`, "bad_request", "-"},
		{"null id", `{"id":null,"op":"feed"}`, "bad_request", "-"},
		{"numeric id", `{"id":1,"op":"feed"}`, "bad_request", "-"},
		{"object id", `{"id":{"x":"1"},"op":"feed"}`, "bad_request", "-"},
		{"id over 128 bytes", `{"id":"` + long + `x","op":"feed"}`, "bad_request", "-"},
		{"second id of wrong type", `{"id":"1","id":2,"op":"feed"}`, "bad_request", "-"},

		// A usable id and a bad field: the reply carries "re".
		{"no op", `{"id":"1"}`, "bad_request", "1"},
		{"numeric op", `{"id":"1","op":7}`, "bad_request", "1"},
		{"numeric text", `{"id":"1","op":"post","text":5}`, "bad_request", "1"},
		{"string limit", `{"id":"1","op":"feed","limit":"5"}`, "bad_request", "1"},
		{"fractional limit", `{"id":"1","op":"feed","limit":1.5}`, "bad_request", "1"},
		{"limit beyond int", `{"id":"1","op":"feed","limit":1e40}`, "bad_request", "1"},
		{"array handle", `{"id":"1","op":"follow","handle":["a"]}`, "bad_request", "1"},
		{"bool token", `{"id":"1","op":"auth","token":true}`, "bad_request", "1"},
		{"wrong type before the id", `{"op":7,"id":"1"}`, "bad_request", "1"},
		{"negative since", `{"id":"1","op":"auth","token":"t","since":-1}`, "bad_request", "1"},
		{"string since", `{"id":"1","op":"auth","token":"t","since":"5"}`, "bad_request", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, perr := decodeRequest([]byte(tc.frame))
			switch {
			case tc.code == "" && perr != nil:
				t.Fatalf("error %v, want none", perr)
			case tc.code != "" && perr == nil:
				t.Fatalf("decoded %+v, want %s", r, tc.code)
			case perr != nil && (perr.Code != tc.code || perr.Message == ""):
				t.Fatalf("error %+v, want code %s with a message", perr, tc.code)
			}
			switch {
			case tc.re == "-" && r.ID != nil:
				t.Errorf("id %q kept, want none", *r.ID)
			case tc.re != "-" && (r.ID == nil || *r.ID != tc.re):
				t.Errorf("id %v, want %q", r.ID, tc.re)
			}
			if perr == nil && r.Op == nil {
				t.Error("decoded without an op")
			}
		})
	}
}

func TestDecodeRequestFields(t *testing.T) {
	r, perr := decodeRequest([]byte(`{"id":"7","op":"feed","limit":20,"before":"abc","text":"","handle":"Bob"}`))
	if perr != nil {
		t.Fatal(perr)
	}
	if *r.ID != "7" || *r.Op != "feed" || *r.Limit != 20 || *r.Before != "abc" || *r.Text != "" || *r.Handle != "Bob" {
		t.Errorf("decoded %+v", r)
	}
	if r.Password != nil || r.Token != nil || r.Tweet != nil {
		t.Error("absent fields must stay nil")
	}
}

// reply is an error reply as a client reads it.
type reply struct {
	Re    *string         `json:"re"`
	OK    *bool           `json:"ok"`
	Error *contract.Error `json:"error"`
}

func decodeReply(t *testing.T, b []byte) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %s is not JSON: %v", b, err)
	}
	return r
}

func TestErrorFrame(t *testing.T) {
	e := &contract.Error{Code: contract.CodeInvalid, Message: `text "too" long`}
	for _, id := range []string{"1", `a"b\c`, "é\u2028\x00", ""} {
		r := decodeReply(t, errorFrame(&id, e))
		if r.Re == nil || *r.Re != id {
			t.Errorf("re %v, want %q", r.Re, id)
		}
		if r.OK == nil || *r.OK || r.Error == nil || *r.Error != *e {
			t.Errorf("reply %+v, want ok false with %+v", r, e)
		}
	}
	b := errorFrame(nil, badRequest("nope"))
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, has := m["re"]; has {
		t.Errorf("reply without an id has re: %s", b)
	}
	if r := decodeReply(t, b); r.Error == nil || r.Error.Code != contract.CodeBadRequest {
		t.Errorf("reply %s", b)
	}
}

func TestWithRe(t *testing.T) {
	tests := []struct {
		name, id, reply, want string
	}{
		{"ok reply", "1", `{"ok":true}`, `{"re":"1","ok":true}`},
		{"result fields kept verbatim", "x", `{"ok":true,"tweet":{"id":"a-00000001","likes":0}}`, `{"re":"x","ok":true,"tweet":{"id":"a-00000001","likes":0}}`},
		{"error reply", "2", `{"ok":false,"error":{"code":"not_found","message":"m"}}`, `{"re":"2","ok":false,"error":{"code":"not_found","message":"m"}}`},
		{"whitespace around", "3", " \n{\"ok\":true}\n", `{"re":"3","ok":true}`},
		{"id needing escapes", `q"\`, `{"ok":true}`, `{"re":"q\"\\","ok":true}`},
		{"empty reply", "4", ``, `{"re":"4","ok":false,"error":{"code":"internal","message":"malformed service reply"}}`},
		{"empty object", "5", `{}`, `{"re":"5","ok":false,"error":{"code":"internal","message":"malformed service reply"}}`},
		{"not an object", "6", `[1]`, `{"re":"6","ok":false,"error":{"code":"internal","message":"malformed service reply"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := withRe(tc.id, []byte(tc.reply))
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("%s is not JSON", got)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	a, b, c := []byte(`{"re":"1","ok":true}`), []byte(`{"push":"tweet","seq":1}`), []byte(`{"re":"2","ok":true}`)
	if got := batch(nil, [][]byte{a}); string(got) != string(a) {
		t.Errorf("one frame: %s, want it unchanged", got)
	}
	got := batch([]byte("stale"), [][]byte{a, b, c})
	want := `stale[` + string(a) + `,` + string(b) + `,` + string(c) + `]`
	if string(got) != want {
		t.Errorf("batch appends to dst: %s, want %s", got, want)
	}
	got = batch(nil, [][]byte{a, b, c})
	var items []map[string]any
	if err := json.Unmarshal(got, &items); err != nil || len(items) != 3 {
		t.Fatalf("batch %s: %d items, %v", got, len(items), err)
	}
	if items[0]["re"] != "1" || items[1]["push"] != "tweet" || items[2]["re"] != "2" {
		t.Errorf("batch lost the order: %s", got)
	}
}

func TestPushSeq(t *testing.T) {
	tests := []struct {
		frame string
		want  uint64
	}{
		{`{"push":"tweet","seq":1,"tweet":{"id":"a-00000001"}}`, 1},
		{`{"push":"likes","seq":18446744073709551615,"tweet":"a-1","likes":2}`, 1<<64 - 1},
		{`{"push":"gap","seq":42}`, 42},
		{`{"re":"1","ok":true}`, 0},
		{``, 0},
		{`"seq":`, 0},
		{`{"push":"tweet","seq":x}`, 0},
		{`{"push":"a_kind_with_a_long_name_xx","seq":5}`, 0}, // seq beyond the head it looks at
	}
	for _, tc := range tests {
		if got := pushSeq([]byte(tc.frame)); got != tc.want {
			t.Errorf("pushSeq(%s) = %d, want %d", tc.frame, got, tc.want)
		}
	}
}

func TestGapFrame(t *testing.T) {
	b := gapFrame(17)
	var p struct {
		Push string `json:"push"`
		Seq  uint64 `json:"seq"`
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Push != "gap" || p.Seq != 17 {
		t.Errorf("gapFrame(17) = %s", b)
	}
	if pushSeq(b) != 17 {
		t.Errorf("pushSeq does not read back a gap frame's seq")
	}
}

// Ids are spliced into replies exactly as json.Marshal encodes them,
// whatever they contain.
func TestAppendJSONStringMatchesMarshal(t *testing.T) {
	for _, id := range []string{"", "1", "c7-1234", "a b~", `q"uote`, `back\slash`, "<tag>&", "tab\there", "nl\n", "é✓", "\x7f", "\xff\xfe", "\u2028"} {
		want, _ := json.Marshal(id)
		if got := appendJSONString([]byte("x"), id); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, want x%s", id, got, want)
		}
	}
}
