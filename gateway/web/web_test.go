package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func TestRootServesTheClientPage(t *testing.T) {
	res := get(t, Handler(), "/")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if !strings.Contains(string(body), `<script src="app.js"></script>`) {
		t.Errorf("index.html does not load app.js")
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("no Content-Security-Policy header")
	}
}

func TestPageReferencesOnlyEmbeddedFiles(t *testing.T) {
	res := get(t, Handler(), "/")
	body, _ := io.ReadAll(res.Body)
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(body), -1)
	if len(refs) == 0 {
		t.Fatal("no references found in index.html")
	}
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") || ref == "./" {
			continue
		}
		if strings.Contains(ref, "//") {
			t.Errorf("index.html loads %q from another host", ref)
			continue
		}
		if r := get(t, Handler(), "/"+ref); r.StatusCode != http.StatusOK {
			t.Errorf("GET /%s = %d", ref, r.StatusCode)
		}
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	if res := get(t, Handler(), "/nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope.js = %d, want 404", res.StatusCode)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}
