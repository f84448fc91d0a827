# Chirp's routine actions. go.work ties the modules together; `go test ./...`
# at the root does not span them, so targets run per module folder.

MODULES := contract natskit services gateway cmd e2e
GO      ?= go
BIN     := bin
CHIRP   := $(BIN)/chirp
# docker compose (plugin) where it exists, Debian's docker-compose otherwise.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

.PHONY: all build run test vet fmt demo crash browser fuzz bench bench-go bench-tools bench-durability images up down compose-test tools clean

# Centrifugo, the peer `chirp bench` measures beside Chirp (built from the Go
# module proxy into bin/, never vendored). BENCH_FLAGS go to `chirp bench`.
CENTRIFUGO_VERSION := v6.9.1
BENCH_FLAGS ?=

all: build

## build: the chirp binary (every component and the client tools) into bin/
build:
	$(GO) build -o $(CHIRP) ./cmd/chirp

## run: the whole stack in one process, embedded NATS, data under ./data
run: build
	$(CHIRP) run

## test: vet and every module's tests with the race detector
test: vet
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GO) test -race -count=1 ./...); done

vet:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done
	@test -z "$$(gofmt -l $(MODULES))" || { gofmt -l $(MODULES); echo "gofmt needed"; exit 1; }

fmt:
	gofmt -w $(MODULES)

## demo: start the stack on a fresh data folder and load-and-check twitter-follows-13k
demo: build
	scripts/demo.sh

## crash: kill -9 every process at seeded random moments under load, then check (CHIRP_CRASH_SEED to reproduce)
crash:
	cd cmd && CHIRP_CRASH=1 $(GO) test -count=1 -timeout 20m -run TestCrashRecovery -v ./crashtest/

## bench-durability: feed restart over 1M inputs with/without snapshot, posts/s with fsync on/off; writes docs/durability.md (about 25 min)
bench-durability:
	$(GO) run ./cmd/restartbench -write docs/durability.md

## fuzz: fuzz the gateway's frame decoding for FUZZTIME (default 60s)
fuzz:
	cd gateway && $(GO) test -run '^$$' -fuzz FuzzDecodeRequest -fuzztime $${FUZZTIME:-60s} .

## bench-go: Go benchmarks (worlds' Step, frames, push path, idle socket memory) of every module that has them;
## BENCH selects (default .), BENCHTIME and COUNT set -benchtime and -count, CHIRP_BENCH_SOCKETS the idle socket counts (default 5000)
bench-go:
	@set -e; for m in $(MODULES); do \
		grep -rlq --include='*_test.go' '^func Benchmark' $$m || continue; \
		echo "== $$m"; (cd $$m && $(GO) test -run '^$$' -bench '$(or $(BENCH),.)' -benchmem $(if $(BENCHTIME),-benchtime $(BENCHTIME)) $(if $(COUNT),-count $(COUNT)) -p 1 ./...); \
	done

## bench: Chirp's push path beside raw NATS and Centrifugo, about 2 minutes; rewrites BENCHMARKS.md (BENCH_FLAGS="-sockets 15000 -append" adds a longer run)
bench: build bench-tools
	$(CHIRP) bench -write BENCHMARKS.md $(BENCH_FLAGS)

## bench-tools: nats-server and Centrifugo into bin/, once (rm them to rebuild)
bench-tools: $(BIN)/nats-server $(BIN)/centrifugo

$(BIN)/nats-server: cmd/go.mod
	cd cmd && $(GO) build -o ../$(BIN)/nats-server github.com/nats-io/nats-server/v2

$(BIN)/centrifugo:
	@mkdir -p $(BIN)
	GOBIN=$(CURDIR)/$(BIN) $(GO) install github.com/centrifugal/centrifugo/v6@$(CENTRIFUGO_VERSION) || \
		{ echo "make: Centrifugo $(CENTRIFUGO_VERSION) did not build; chirp bench will skip it and say so"; }

## tools: the nats CLI
tools:
	$(GO) install github.com/nats-io/natscli/nats@v0.5.0

clean:
	rm -rf $(BIN) out

help:
	@grep -h '^## ' $(MAKEFILE_LIST) | sed 's/^## //'
