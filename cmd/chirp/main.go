// Command chirp runs Chirp: the whole stack in one process (run), one
// component against an external NATS (user, tweet, feed, gateway), or the
// load-and-check client (load), or the benchmark (bench).
package main

import (
	"fmt"
	"os"
)

const usage = `usage: chirp <command> [flags]

commands:
  run       the whole stack in one process, with an embedded NATS server
  user      the user service, against CHIRP_NATS_URL
  tweet     the tweet service, against CHIRP_NATS_URL
  feed      the feed service, against CHIRP_NATS_URL
  gateway   the WebSocket gateway, against CHIRP_NATS_URL
  load      load a follower graph over WebSocket and check every feed
  bench     measure push deliveries/s and latency beside raw NATS and Centrifugo
  health    GET a URL, exit 0 on 2xx (container health checks)

Run "chirp <command> -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	args := os.Args[2:]
	var code int
	switch os.Args[1] {
	case "run":
		code = runMain(args)
	case "user", "tweet", "feed", "gateway":
		code = componentMain(os.Args[1], args)
	case "load":
		code = loadMain(args)
	case "bench":
		code = benchMain(args)
	case "health":
		code = healthMain(args)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "chirp: unknown command %q\n\n%s", os.Args[1], usage)
		code = 2
	}
	os.Exit(code)
}
