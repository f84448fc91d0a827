// Package e2e holds Chirp's end-to-end tests: the whole stack runs
// in-process (embedded NATS, services, gateway) and real Chromium browsers,
// driven over the DevTools protocol, use the web client the gateway serves.
//
// The tests need Debian's chromium package (or CHIRP_CHROMIUM naming a
// Chrome binary). Without one they skip, except under CI=true, where they
// fail. Screenshots go to CHIRP_TEST_OUT, by default out/ in this folder.
package e2e
