# Nymbus: the two set-up commands are `make run` and `make test`; both install what is missing.
SWIFT ?= swift
NODES ?= 3
HIDDEN ?= 1
SECONDS ?= 30

.PHONY: deps test-deps build release test run bench fuzz clean

# libsodium-dev is the only system library Nymbus links; pkg-config finds it.
deps:
	@if ! pkg-config --exists libsodium 2>/dev/null; then \
		echo "installing libsodium-dev (and pkg-config) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium-dev pkg-config; \
	fi

# The broker tests talk to the broker with real Redis clients (redis-cli, redis-py) and compare
# stream replies with redis-server's.
test-deps: deps
	@if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then \
		echo "installing redis-tools and redis-server with apt-get (the stream tests compare replies with redis-server's)"; \
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
