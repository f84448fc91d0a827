package gateway

import (
	"net/http"
	"net/url"
	"strings"
)

// originCheck returns the upgrader's CheckOrigin for an allowed-origins
// setting (see Limits.AllowedOrigins). A request without an Origin header
// does not come from a browser page and is always allowed: the setting
// protects browser users from other sites' pages, not the gateway from
// other programs.
func originCheck(allowed []string) func(*http.Request) bool {
	set := make(map[string]bool, len(allowed))
	for _, o := range allowed {
		o = strings.TrimSpace(o)
		if o == "*" {
			return func(*http.Request) bool { return true }
		}
		if o != "" {
			set[normalOrigin(o)] = true
		}
	}
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		if len(set) > 0 {
			return set[normalOrigin(origin)]
		}
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
}

// normalOrigin lower-cases an origin and drops a trailing slash, so that
// "https://Chirp.example/" matches "https://chirp.example".
func normalOrigin(o string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
}
