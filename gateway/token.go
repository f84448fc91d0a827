package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Tokens are "v1.<payload>.<mac>": payload is base64url JSON
// {"h":handle,"exp":unix seconds}, mac is HMAC-SHA256 of "v1.<payload>"
// under the gateways' shared secret. A token proves its holder signed up or
// logged in as h; every gateway with the secret accepts it until exp.
type tokens struct {
	secret []byte
	ttl    time.Duration
}

type tokenClaims struct {
	H   string `json:"h"`
	Exp int64  `json:"exp"`
}

var errBadToken = errors.New("bad or expired token")

func (t tokens) mint(handle string, now time.Time) string {
	p, _ := json.Marshal(tokenClaims{H: handle, Exp: now.Add(t.ttl).Unix()})
	body := "v1." + base64.RawURLEncoding.EncodeToString(p)
	return body + "." + base64.RawURLEncoding.EncodeToString(t.mac(body))
}

func (t tokens) verify(tok string, now time.Time) (string, error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || !strings.HasPrefix(tok, "v1.") {
		return "", errBadToken
	}
	body, sig := tok[:i], tok[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(body)) {
		return "", errBadToken
	}
	p, err := base64.RawURLEncoding.DecodeString(body[3:])
	if err != nil {
		return "", errBadToken
	}
	var c tokenClaims
	if err := json.Unmarshal(p, &c); err != nil || c.H == "" || now.Unix() >= c.Exp {
		return "", errBadToken
	}
	return c.H, nil
}

func (t tokens) mac(body string) []byte {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte(body))
	return m.Sum(nil)
}
