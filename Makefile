# Postern build, test and run targets. `make` builds every daemon and command into ./bin.

GO      ?= go
BIN     := bin
MAINS    = $(shell $(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./... | grep -v /bench/)
# The resident daemons are one executable, postern (see postern/main.go),
# linked under each daemon's name: their processes share its text pages.
DAEMONS  = master smtpd cleanup qmgr pickup showq smtp lmtp local virtual pipe spawn anvil verify postlogd
COMMANDS = $(filter-out $(addprefix %/,$(DAEMONS)),$(MAINS))
# The libraries, where the concurrent code lives, are tested with -race;
# daemons, commands and end-to-end tests without.
RACE_PKGS = ./pkg/...
PLAIN_PKGS = $(shell $(GO) list ./... | grep -v '/pkg/')

.PHONY: all build test unit e2e lint run install clean bench

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(COMMANDS)
	for d in $(DAEMONS); do ln -f $(BIN)/postern $(BIN)/$$d || exit 1; done
	ln -sf postalias $(BIN)/newaliases
	ln -sf postqueue $(BIN)/mailq

# ./tests takes ~6 minutes on an idle 2-core machine and 15-20 under load:
# its timeout leaves room for a slow CI machine (a timeout is a red CI).
test: build
	@sh scripts/test-deps.sh
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -race -timeout 10m $(RACE_PKGS)
	$(GO) test -timeout 30m -count=1 $(PLAIN_PKGS)

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# A self-contained unprivileged instance in ./run (SMTP on 127.0.0.1:2525,
# mail for example.test into ./run/mail/<user>/); Ctrl-C stops it.
run: build
	sh scripts/run-sandbox.sh

clean:
	rm -rf $(BIN)

# Postern against the real Postfix, side by side (root; see bench/run.sh and
# README's Performance section). BENCH_ARGS="-n 2000 -quick" for a quick look.
bench:
	bash bench/run.sh $(BENCH_ARGS)

# Installs into the system as Postfix lays it out (see scripts/install.sh):
# `make install` as root, or `make install DESTDIR=/tmp/stage NO_CHOWN=1`
# to stage it without root.
install: build
	DESTDIR="$(DESTDIR)" NO_CHOWN="$(NO_CHOWN)" POSTERN_BIN_DIR="$(CURDIR)/$(BIN)" sh scripts/install.sh
