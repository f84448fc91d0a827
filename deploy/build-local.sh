#!/bin/sh
# Builds the images for a machine with no image registry: static linux
# binaries built here (chirp, and nats-server from its Go module), each
# wrapped in a FROM scratch image.
#   deploy/build-local.sh            -> chirp:local, chirp-nats:local
#   CHIRP_LOCAL_TAG=t deploy/build-local.sh -> chirp:t, chirp-nats:t
# Run from anywhere; needs go and docker.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/linux"
tag=${CHIRP_LOCAL_TAG:-local}
mkdir -p "$out"

export CGO_ENABLED=0 GOOS=linux
# GOARCH follows the host unless set, which is what the local engine runs.
echo "build-local: go build chirp"
(cd "$root" && go build -trimpath -ldflags='-s -w' -o "$out/chirp" ./cmd/chirp)
echo "build-local: go build nats-server (the version cmd/go.mod requires)"
(cd "$root/cmd" && go build -trimpath -ldflags='-s -w' -o "$out/nats-server" github.com/nats-io/nats-server/v2)

echo "build-local: docker build chirp:$tag"
docker build -q -f "$root/deploy/Dockerfile.scratch" -t "chirp:$tag" "$out"
echo "build-local: docker build chirp-nats:$tag"
docker build -q -f "$root/deploy/Dockerfile.nats.scratch" -t "chirp-nats:$tag" "$out"
