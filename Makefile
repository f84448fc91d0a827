# Chirp's routine actions. go.work ties the modules together; `go test ./...`
# at the root does not span them, so targets run per module folder.

MODULES := contract natskit services gateway cmd e2e
GO      ?= go
BIN     := bin
CHIRP   := $(BIN)/chirp
# docker compose (plugin) where it exists, Debian's docker-compose otherwise.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
# Which compose files `make up` and `make down` use. The default is this
# machine's: no registry, FROM scratch images built by `make images`. With
# a registry: make up COMPOSE_FILE=docker-compose.yml (builds on the
# official Go image and pulls the official nats image).
COMPOSE_FILE ?= docker-compose.yml:docker-compose.local.yml
export COMPOSE_FILE

.PHONY: all build run test vet fmt demo crash fuzz bench bench-go bench-tools bench-durability bench-scale images up down compose-test tools clean help

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

## vet: go vet of every module and the gofmt check
vet:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done
	@test -z "$$(gofmt -l $(MODULES))" || { gofmt -l $(MODULES); echo "gofmt needed"; exit 1; }

## fmt: gofmt every module
fmt:
	gofmt -w $(MODULES)

## demo: start the stack on a fresh data folder and load-and-check twitter-follows-13k
demo: build
	scripts/demo.sh

## crash: kill -9 every process at seeded random moments under load, then check (CHIRP_CRASH_SEED to reproduce)
crash:
	cd cmd && CHIRP_CRASH=1 $(GO) test -count=1 -timeout 20m -run TestCrashRecovery -v ./crashtest/

## images: static linux binaries (chirp, nats-server) in bin/linux and the FROM scratch images chirp:local, chirp-nats:local
images:
	deploy/build-local.sh

## up: the compose stack (3 NATS nodes, 2 partitions per service, 2 gateways on :8080 and :8081), waits until healthy
up: $(if $(findstring docker-compose.local.yml,$(COMPOSE_FILE)),images)
	$(COMPOSE) up -d $(if $(findstring docker-compose.local.yml,$(COMPOSE_FILE)),,--build)
	deploy/wait-healthy.sh 180 -- $(COMPOSE)

## down: stop and remove the compose stack, keeping its data volumes (WIPE=1 deletes them too)
down:
	$(COMPOSE) down --remove-orphans $(if $(WIPE),-v)

## compose-test: build the images, start compose on free ports, load both gateways while killing and cutting off containers, check, tear down
compose-test:
	cd cmd && CHIRP_COMPOSE=1 $(GO) test -count=1 -timeout 15m -run TestCompose -v ./composetest/

## bench-scale: posts/s and deliveries/s for P=1,2,4 partitions per service, CPU per process; writes docs/scaling.md
bench-scale:
	scripts/scalebench.sh

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

## clean: remove bin/ and out/
clean:
	rm -rf $(BIN) out

## help: this list
help:
	@grep -h '^## ' $(MAKEFILE_LIST) | sed 's/^## //'
