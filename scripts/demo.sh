#!/usr/bin/env bash
# demo.sh starts the whole stack in one process on a fresh data folder,
# loads a follower graph through it over WebSocket with `chirp load`, and
# stops it. It exits with the load-and-check command's status.
#
# Environment: GRAPH (default graphs/twitter-follows-13k/edges.txt), K (posts
# per account, default 5), LIKES (default 2), DEMO_HTTP (127.0.0.1:8090),
# DEMO_NATS (127.0.0.1:4232), CHIRP_SYNC_ALWAYS (default true), CHIRP_BIN
# (default bin/chirp).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${CHIRP_BIN:-bin/chirp}
graph=${GRAPH:-graphs/twitter-follows-13k/edges.txt}
http=${DEMO_HTTP:-127.0.0.1:8090}
data=$(mktemp -d "${TMPDIR:-/tmp}/chirp-demo.XXXXXX")
log="$data/stack.log"

cleanup() {
	if [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$data"
}
trap cleanup EXIT

CHIRP_HTTP_ADDR=$http CHIRP_NATS_LISTEN=${DEMO_NATS:-127.0.0.1:4232} \
	CHIRP_DATA_DIR=$data CHIRP_BCRYPT_COST=${CHIRP_BCRYPT_COST:-4} \
	"$bin" run >"$log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
	if "$bin" health "http://$http/healthz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: the stack exited during start-up:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.2
done

echo "demo: stack up on ws://$http/ws (data in $data); loading $graph" >&2
status=0
"$bin" load -url "ws://$http/ws" -graph "$graph" -k "${K:-5}" -likes "${LIKES:-2}" -quiet || status=$?
if [[ $status -ne 0 ]]; then
	echo "demo: last lines of the stack's log:" >&2
	tail -n 30 "$log" >&2
fi
exit $status
