# Postern build, test and run targets. `make` builds every daemon and command into ./bin.

GO      ?= go
BIN     := bin
MAINS    = $(shell $(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./...)
# Packages whose code runs goroutines concurrently; tested with -race.
RACE_PKGS = ./pkg/...

.PHONY: all build test unit e2e lint run install clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(MAINS)
	ln -sf postalias $(BIN)/newaliases
	ln -sf postqueue $(BIN)/mailq

test: build
	@sh scripts/test-deps.sh
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -race -timeout 10m $(RACE_PKGS)
	$(GO) test -timeout 15m -count=1 ./cmd/... ./master/... ./tests/...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

run: build
	@echo "make run: not yet -- the delivery daemons are still being built (see README)"

clean:
	rm -rf $(BIN)
