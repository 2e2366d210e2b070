# aiospec — the entry point. On a fresh Debian/Ubuntu machine:
#   make conformance   build, run every scenario on the reference loop (all backends), summarise
#   make test          everything: unit tests, conformance, mutants, oracle freshness, lint
# Also: make bless (regenerate expected traces; never on CI), make lint, make diff S=spec/x.yaml,
#       make sanitize (ASan+UBSan and TSan builds running the tests), make bench (reference loop
#       vs libuv, as ratios; benchmarks are never part of the tests), make bench-against REV=<rev>
#       (this tree's benchmarks against another revision's, in one run), make matrix (every loop on
#       this machine x every CPython version: build/matrix/index.html, checked in headless Chromium).

BUILD   ?= build
PYTHON  ?= /usr/bin/python3
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=
SPEC_ENV = PYTHONPATH=$(CURDIR)/tools:$(CURDIR)/oracle

.PHONY: all bootstrap configure build test conformance matrix bless lint diff sanitize bench bench-against install clean

all: build

bootstrap:
	@bootstrap/install-deps

configure: bootstrap
	@test -f $(BUILD)/build.ninja || cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DPython3_EXECUTABLE=$(PYTHON) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

conformance: build
	$(BUILD)/tools/aiospec report --json $(BUILD)/conformance-report.json

# Every loop this machine has (tools/aiospec_matrix/loops.py) against every CPython version with
# traces: one report per loop, then build/matrix/index.html, then the page checked in Chromium.
matrix: build
	$(BUILD)/tools/aiospec matrix --out $(BUILD)/matrix
	$(SPEC_ENV) $(PYTHON) -m aiospec_matrix.browser $(BUILD)/matrix

# Installs the package a C or C++ loop builds against (find_package(aiospec): headers, libraries,
# the bundle and the traces; spec/INTERPRETING.md) and `aiospec` on PATH (PREFIX, default
# /usr/local). The command itself keeps reading this tree (spec/, the Python tools) and this build.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Every CPython 3.8+ of this machine, and Pyodide for the versions spec/oracles.yaml gives it.
# A trace another patch release made is not replaced unless `make bless ALLOW_PATCH_CHANGE=1`.
bless: bootstrap
	$(SPEC_ENV) $(PYTHON) -m aiospec_spec bless $(if $(ALLOW_PATCH_CHANGE),--allow-patch-change)

lint: bootstrap
	$(SPEC_ENV) $(PYTHON) -m aiospec_spec lint

diff: build
	@test -n "$(S)" || { echo "usage: make diff S=spec/<area>/<file>.yaml [B=select|poll|all]"; exit 2; }
	$(BUILD)/tools/aiospec diff $(S) --backend $(or $(B),all)

# 5 repetitions of every case, in random order (so that drift and load spread over both halves of
# every pair); ratios.py prints each ratio's median and its min..max over the repetitions, and the
# idle_pingpong scaling table. BENCH_FLAGS adds to (or overrides) these, e.g. a --benchmark_filter.
BENCH_FLAGS ?=
bench: build
	$(BUILD)/bench/loop_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
	    --benchmark_min_time=0.2 $(BENCH_FLAGS) \
	    --benchmark_format=json --benchmark_out=$(BUILD)/bench.json --benchmark_out_format=json >/dev/null
	$(PYTHON) bench/ratios.py $(BUILD)/bench.json

# This tree's loop_bench against REV's, in turns in one run (bench/against.py): what a change did.
# REV=ba8240b is the loop before issue 11's hot path. BENCH_FILTER: a --benchmark_filter regex.
bench-against: build
	@test -n "$(REV)" || { echo "usage: make bench-against REV=<revision> [BENCH_FILTER=<regex>]"; exit 2; }
	$(PYTHON) bench/against.py $(REV) --build $(BUILD) $(if $(BENCH_FILTER),--filter '$(BENCH_FILTER)')

# Under the sanitizers epoll and io_uring run the io and ordering areas (their selector code); every
# scenario on every backend runs in `make test`. This keeps CI's two sanitizer builds within its budget.
sanitize: bootstrap
	$(MAKE) BUILD=build-asan CMAKE_FLAGS=-DAIOSPEC_SANITIZE=address,undefined build
	cd build-asan && ctest --output-on-failure -j $(JOBS) -L 'unit|conformance|mutants|examples' -LE 'oracle|lint|epoll|io_uring'
	cd build-asan && ctest --output-on-failure -j $(JOBS) -L conformance -L 'epoll|io_uring' -L '^(io|ordering)$$'
	$(MAKE) BUILD=build-tsan CMAKE_FLAGS=-DAIOSPEC_SANITIZE=thread build
	cd build-tsan && ctest --output-on-failure -j $(JOBS) -L 'unit|conformance|mutants|examples' -LE 'oracle|lint|epoll|io_uring'
	cd build-tsan && ctest --output-on-failure -j $(JOBS) -L conformance -L 'epoll|io_uring' -L '^(io|ordering)$$'

clean:
	rm -rf $(BUILD) build-asan build-tsan
