# vaec: thin wrapper over CMake. `make` builds, `make test` builds and runs the suite,
# `make demo` installs, builds and runs the demo job. See README.md.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-asan fuzz demo bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@./$(BUILD)/bin/vaec_tests

# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (CUDA off: no GPU to check there)
test-asan: deps
	@cmake -S . -B build-asan -DVAEC_SANITIZE=ON -DVAEC_CUDA=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ./build-asan/bin/vaec_tests

# every libFuzzer target of tests/fuzz/ for FUZZ_S seconds, or FUZZ_RUNS executions from a fixed seed (CI)
# (clang, ASan + UBSan, CUDA and MPI off);
# a crash, hang, leak or sanitizer report fails it and keeps the input in tests/fuzz/regressions/
FUZZ_S ?= 60
FUZZ_RUNS ?=
fuzz: deps
	@bash scripts/fuzz.sh --deps
	@cmake -S . -B build-fuzz -DVAEC_FUZZ=ON -DCMAKE_C_COMPILER=clang -DVAEC_CUDA=OFF -DVAEC_MPI=OFF \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target vaec_fuzz
	@FUZZ_S=$(FUZZ_S) FUZZ_RUNS=$(FUZZ_RUNS) BUILD_FUZZ=build-fuzz bash scripts/fuzz.sh

demo: build
	@BUILD=$(BUILD) bash scripts/demo.sh

bench: build
	@bash bench/run.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
