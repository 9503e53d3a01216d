# helpline — developer entry points. `make test` is what CI runs.
GO ?= go
PKGS ?= ./...

.PHONY: test deps lint unit fuzz-short build compose-check

## test: install what the tests need (if missing), then lint and run every test with -race.
test: deps lint unit fuzz-short

## deps: the real servers the tests start (redis-server from Debian's packages).
deps:
	@bash scripts/test-deps.sh

## lint: gofmt, go vet and staticcheck (pinned in go.mod as a tool).
lint:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	 if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## unit: every test, with the race detector.
unit:
	$(GO) test -race -count=1 $(PKGS)

## fuzz-short: every decoder's fuzz target for FUZZTIME (10s) each (issue #8).
fuzz-short:
	@bash scripts/fuzz-short.sh

## build: the helpline binary into ./bin.
build:
	$(GO) build -o bin/helpline ./cmd/helpline

## compose-check: validate docker/compose.yaml with the compose client (needs
## `docker compose` or Debian's docker-compose; no engine).
compose-check:
	bash docker/check.sh

## chaos: the fault suite alone, verbose (chaos/, figures in RELIABILITY.md);
## it also runs in `make unit`. HELPLINE_CHAOS_PENDING=1 adds the phases
## whose behaviour has not landed yet.
.PHONY: chaos
chaos:
	$(GO) test -race -count=1 -v -run 'TestChaos|TestScanFindsNumbers' ./chaos/
