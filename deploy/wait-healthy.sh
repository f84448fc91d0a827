#!/bin/sh
# Waits until every container of a compose project is running and healthy
# (Debian's docker-compose 1.29 has no `up --wait`). Exits 1 with the
# states and the last logs of the laggards after the timeout.
#   deploy/wait-healthy.sh [timeout-seconds] -- <compose command and flags>
# e.g. deploy/wait-healthy.sh 120 -- docker-compose -p chirp -f docker-compose.yml -f docker-compose.local.yml
set -eu

timeout=${1:-120}
shift
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: $0 [timeout-seconds] -- <compose command>" >&2; exit 2; }

deadline=$(( $(date +%s) + timeout ))
while :; do
	ids=$("$@" ps -q)
	if [ -z "$ids" ]; then
		echo "wait-healthy: no containers" >&2
		exit 1
	fi
	waiting=""
	for id in $ids; do
		state=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
		case "$state" in
		*" running healthy" | *" running none") ;;
		*) waiting="$waiting
  $state" ;;
		esac
	done
	if [ -z "$waiting" ]; then
		echo "wait-healthy: all $(echo "$ids" | wc -l) containers healthy"
		exit 0
	fi
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "wait-healthy: not healthy after ${timeout}s:$waiting" >&2
		"$@" logs --tail=20 >&2 || true
		exit 1
	fi
	sleep 1
done
