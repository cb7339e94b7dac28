# twinboot: the two commands are `make demo` and `make test` (see README.md).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
# ctest arguments, e.g. CTEST_ARGS='-R image'
CTEST_ARGS ?=

.PHONY: all deps build firmware test test-host test-asan cross fuzz demo bench long clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# The firmware images (nRF5340 DK and QEMU mps2-an521) in build/fw, with
# their size table; the QEMU tests (label qemu) run them. LAYOUT=FILE builds
# them for an NCS Partition Manager file (partitions.yml / pm_static.yml)
# instead of the DK's default layout.
LAYOUT ?=
firmware: deps
	$(if $(LAYOUT),$(MAKE) --no-print-directory build >/dev/null &&) TB_LAYOUT=$(LAYOUT) bash scripts/firmware.sh

# The whole suite: host build, the same suite under ASan+UBSan, the
# Cortex-M33 cross build and firmware, and a short libFuzzer run of each parser.
test: deps firmware test-host test-asan cross fuzz
	@echo "make test: all stages passed"

test-host: build firmware
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) $(CTEST_ARGS)

test-asan: deps firmware
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTB_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) $(CTEST_ARGS)

cross: deps
	bash scripts/cross-build.sh

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DTB_FUZZ=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz -j$(JOBS)

# Long runs: the big power-cut sweeps and long fuzzing (not in `make test`).
long: deps firmware
	cmake -S . -B $(BUILD) -DTB_LONG_TESTS=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -L long

# The demo builds quietly (the build's log is shown only if it fails).
demo: deps
	@echo "make demo: building twinboot (log: $(BUILD)/build.log)"
	@{ cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) && \
	   cmake --build $(BUILD) -j$(JOBS) -- --no-print-directory; } > $(BUILD).log 2>&1 || { cat $(BUILD).log; exit 1; }
	@mv -f $(BUILD).log $(BUILD)/build.log
	@bash scripts/demo.sh $(BUILD)/bin/twinboot

bench: build firmware
	bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build/cross
