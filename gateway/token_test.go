package gateway

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

var tokenNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testTokens() tokens { return tokens{secret: []byte("test secret"), ttl: time.Hour} }

// signed makes a token over an arbitrary payload with ts's secret, so the
// payload checks behind a valid signature can be tested.
func signed(ts tokens, payload string) string {
	body := "v1." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return body + "." + base64.RawURLEncoding.EncodeToString(ts.mac(body))
}

func TestTokenRoundTrip(t *testing.T) {
	ts := testTokens()
	for _, h := range []string{"alice", "Bob_99", strings.Repeat("z", 30)} {
		tok := ts.mint(h, tokenNow)
		if !strings.HasPrefix(tok, "v1.") || strings.Count(tok, ".") != 2 {
			t.Errorf("token %q is not v1.<payload>.<mac>", tok)
		}
		got, err := ts.verify(tok, tokenNow)
		if err != nil || got != h {
			t.Errorf("verify(mint(%q)) = %q, %v", h, got, err)
		}
		// Another gateway with the same secret accepts it too.
		if got, err := (tokens{secret: []byte("test secret")}).verify(tok, tokenNow.Add(time.Minute)); err != nil || got != h {
			t.Errorf("same secret elsewhere: %q, %v", got, err)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	ts := testTokens()
	tok := ts.mint("alice", tokenNow)
	tests := []struct {
		at time.Time
		ok bool
	}{
		{tokenNow, true},
		{tokenNow.Add(-time.Hour), true}, // a clock behind is no reason to refuse
		{tokenNow.Add(time.Hour - time.Second), true},
		{tokenNow.Add(time.Hour), false},
		{tokenNow.Add(time.Hour + time.Second), false},
		{tokenNow.Add(24 * 365 * time.Hour), false},
	}
	for _, tc := range tests {
		_, err := ts.verify(tok, tc.at)
		if (err == nil) != tc.ok {
			t.Errorf("verify at now%+v: err %v, want ok %t", tc.at.Sub(tokenNow), err, tc.ok)
		}
	}
}

func TestTokenRejectsForgeries(t *testing.T) {
	ts := testTokens()
	tok := ts.mint("alice", tokenNow)
	body, sig := tok[:strings.LastIndexByte(tok, '.')], tok[strings.LastIndexByte(tok, '.')+1:]
	mallory := `{"h":"mallory","exp":` + "9999999999}"
	otherSecret := tokens{secret: []byte("other secret"), ttl: time.Hour}
	tests := map[string]string{
		"empty":                       "",
		"no dots":                     "v1",
		"only prefix":                 "v1.",
		"empty parts":                 "v1..",
		"wrong version":               "v2" + tok[2:],
		"no version":                  tok[3:],
		"payload swapped":             "v1." + base64.RawURLEncoding.EncodeToString([]byte(mallory)) + "." + sig,
		"signature truncated":         body + "." + sig[:len(sig)-2],
		"signature of another token":  body + "." + sigOf(ts.mint("bob", tokenNow)),
		"signature not base64":        body + ".!!!",
		"signature padded base64":     body + "." + base64.URLEncoding.EncodeToString(ts.mac(body)),
		"extra dot":                   body + ".x." + sig,
		"trailing byte":               tok + "A",
		"signed with another secret":  otherSecret.mint("alice", tokenNow),
		"unsigned":                    body + ".",
		"payload not base64":          "v1.***." + base64.RawURLEncoding.EncodeToString(ts.mac("v1.***")),
		"signed payload not JSON":     signed(ts, "alice"),
		"signed payload without h":    signed(ts, `{"exp":9999999999}`),
		"signed payload with empty h": signed(ts, `{"h":"","exp":9999999999}`),
		"signed payload without exp":  signed(ts, `{"h":"alice"}`),
		"signed payload h not string": signed(ts, `{"h":1,"exp":9999999999}`),
		"signed payload is an array":  signed(ts, `["alice",9999999999]`),
	}
	for name, bad := range tests {
		if h, err := ts.verify(bad, tokenNow); err == nil {
			t.Errorf("%s: %q accepted as %q", name, bad, h)
		}
	}
	// And the untouched token still verifies.
	if _, err := ts.verify(tok, tokenNow); err != nil {
		t.Fatal(err)
	}
}

// sigOf returns the signature part of a token.
func sigOf(tok string) string { return tok[strings.LastIndexByte(tok, '.')+1:] }

func TestTokensOfOneSecretDiffer(t *testing.T) {
	ts := testTokens()
	a, b := ts.mint("alice", tokenNow), ts.mint("alicf", tokenNow)
	if a == b {
		t.Fatal("different handles give the same token")
	}
	if a == (tokens{secret: []byte("x"), ttl: time.Hour}).mint("alice", tokenNow) {
		t.Fatal("different secrets give the same token")
	}
}
