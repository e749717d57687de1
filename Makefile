# Nymbus: the two set-up commands are `make run` and `make test`; both install what is missing.
SWIFT ?= swift
NODES ?= 3
HIDDEN ?= 1
SECONDS ?= 30

.PHONY: deps test-deps build release test run bench fuzz clean install install-files manual

# libsodium-dev is the only system library Nymbus links; pkg-config finds it.
deps:
	@if ! pkg-config --exists libsodium 2>/dev/null; then \
		echo "installing libsodium-dev (and pkg-config) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium-dev pkg-config; \
	fi

# The broker tests talk to the broker with real Redis clients (redis-cli, redis-py) and compare its
# answers (pub/sub gaps, streams) with a redis-server of their own.
test-deps: deps
	@if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then \
		echo "installing redis-tools and redis-server with apt-get (replies are compared with redis-server's)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools redis-server; \
	fi
	@if ! python3 -c "import redis" >/dev/null 2>&1; then \
		echo "installing redis-py with pip"; \
		python3 -m pip install -q redis || echo "warning: redis-py could not be installed; its tests will fail"; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: test-deps
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-8} $(SWIFT) test --skip-build

run: build
	$(SWIFT) run nymbus devnet --nodes $(NODES) --hidden $(HIDDEN) --demo

clean:
	rm -rf .build .build-*

# `make install PREFIX=/usr/local` (DESTDIR for packagers): the release binary, its man page
# (ArgumentParser's generate-manual, built from the package's own copy, offline) and shell
# completions for bash, zsh and fish. `install-files` only copies, from NYMBUS_BIN and MANPAGE.
PREFIX ?= /usr/local
DESTDIR ?=
NYMBUS_BIN ?= .build/release/nymbus
MANPAGE ?= .build/man/nymbus.1

install: release manual install-files

manual:
	$(SWIFT) build --product generate-manual
	mkdir -p .build/man
	"$$($(SWIFT) build --show-bin-path)/generate-manual-tool" "$(NYMBUS_BIN)" --output-directory .build/man

install-files:
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/man/man1" \
		"$(DESTDIR)$(PREFIX)/share/bash-completion/completions" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
		"$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"
	install -m 0755 "$(NYMBUS_BIN)" "$(DESTDIR)$(PREFIX)/bin/nymbus"
	install -m 0644 "$(MANPAGE)" "$(DESTDIR)$(PREFIX)/share/man/man1/nymbus.1"
	"$(NYMBUS_BIN)" --generate-completion-script bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/nymbus"
	"$(NYMBUS_BIN)" --generate-completion-script zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_nymbus"
	"$(NYMBUS_BIN)" --generate-completion-script fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/nymbus.fish"
	@echo "installed $(DESTDIR)$(PREFIX)/bin/nymbus ($$("$(DESTDIR)$(PREFIX)/bin/nymbus" --version)), its man page and completions"

# Benchmarks of issue 7 (release builds: the first run compiles for a few minutes), each against a
# baseline measured in the same run (libsodium floors, redis-server), then one table.
bench: deps
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1 \
		|| ! command -v redis-cli >/dev/null 2>&1; then \
		echo "installing redis-server and redis-tools with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools; \
	fi
	SWIFT=$(SWIFT) scripts/bench.sh

# libFuzzer over every decoder (overlay, nym-client, object, RESP), seeded from spec/vectors.
fuzz: deps
	scripts/fuzz.sh $(SECONDS)
