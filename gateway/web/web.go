// Package web holds Chirp's browser client: plain HTML, CSS and JavaScript
// embedded in the gateway binary, with no build step. The client speaks
// WebSocket protocol v1 with the /ws endpoint of the gateway serving it.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed index.html app.css app.js
var files embed.FS

// FS returns the client's files, index.html at the root.
func FS() fs.FS { return files }

// csp allows only the page's own files and a WebSocket to its own host.
const csp = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; " +
	"style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the client's files: / is index.html, unknown paths are 404.
// Responses are revalidated on each load, so a new gateway's client is
// picked up by a reload.
func Handler() http.Handler {
	files := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
}
