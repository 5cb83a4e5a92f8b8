# The commands a user types. Every target installs missing Debian packages first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?=

.PHONY: all deps build demo test test-fast test-asan bench fuzz r python clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the bundled example.
demo: build
	@scripts/demo.sh $(BUILD)/spiral

# Every test: the suite in a release build with -Werror, then again under ASan + UBSan.
test: test-fast test-asan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The sanitizer build uses clang, which also builds the libFuzzer targets; ctest runs each
# fuzzer briefly on its seed corpus (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 15
SANITIZE_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DSPIRAL_SANITIZE=ON \
	-DSPIRAL_WERROR=OFF -DSPIRAL_FUZZ=ON -DSPIRAL_FUZZ_SECONDS=$(FUZZ_SECONDS)
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(SANITIZE_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Long fuzzing runs: make fuzz FUZZ_SECONDS=600
fuzz: deps
	cmake -S . -B $(ASAN_BUILD) $(SANITIZE_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -R '^fuzz_'

bench: deps
	@scripts/install-deps.sh reference
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DSPIRAL_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
