# The commands a user types. Every target installs missing Debian packages first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?=

.PHONY: all deps build demo test test-fast test-asan bench fuzz r python r-package python-wheel test-bindings bindings-libs clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the bundled example.
demo: build
	@scripts/demo.sh $(BUILD)/spiral

# Every test: the suite in a release build with -Werror, the R and Python packages' tests,
# then the suite again under ASan + UBSan.
test: test-fast test-bindings test-asan

test-fast: build
	@scripts/install-deps.sh test
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The sanitizer build uses clang, which also builds the libFuzzer targets; ctest runs each
# fuzzer briefly on its seed corpus (FUZZ_SECONDS each). Line tables are all the debug
# information the sanitizers' reports use (file:line per frame); full -g compiles ~20% slower.
FUZZ_SECONDS ?= 15
SANITIZE_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
	-DCMAKE_CXX_COMPILER=clang++ -DSPIRAL_SANITIZE=ON \
	-DSPIRAL_WERROR=OFF -DSPIRAL_FUZZ=ON -DSPIRAL_FUZZ_SECONDS=$(FUZZ_SECONDS)
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(SANITIZE_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Long fuzzing runs: make fuzz FUZZ_SECONDS=600
fuzz: deps
	cmake -S . -B $(ASAN_BUILD) $(SANITIZE_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -R '^fuzz_'

# The R package and the Python module are timed too (bench/bindings.R, bench/bindings.py).
bench: deps
	@scripts/install-deps.sh reference
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DSPIRAL_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	$(MAKE) r python
	bench/run.sh $(BUILD)

# The R package and the Python module link the static libraries of the release build.
BINDINGS_ENV = SPIRAL_REPO=$(CURDIR) SPIRAL_BUILD_DIR=$(CURDIR)/$(BUILD)
bindings-libs: build

# Installs the R package into the first library of .libPaths() (creating R_LIBS_USER).
r:
	@scripts/install-deps.sh r
	$(MAKE) bindings-libs
	Rscript -e 'd <- Sys.getenv("R_LIBS_USER"); if (nzchar(d)) dir.create(d, recursive = TRUE, showWarnings = FALSE)'
	$(BINDINGS_ENV) R CMD INSTALL --preclean --library="$$(Rscript -e 'cat(.libPaths()[1])')" bindings/r

# Installs the Python module with pip from the checkout, without network access.
python:
	@scripts/install-deps.sh python
	$(MAKE) bindings-libs
	$(BINDINGS_ENV) /usr/bin/python3 -m pip install --no-build-isolation --no-deps --break-system-packages ./bindings/python

# spiral_<version>.tar.gz: the self-contained R source package (C++ sources inside, compiled
# by R's toolchain on R CMD INSTALL; specification section 8.1). Check it with
# R CMD check --as-cran spiral_<version>.tar.gz (compiles the whole library). The recipe is
# marked recursive (+) so that R's make, compiling the library to build the vignette, gets
# make's -j job slots (without it R's make runs one job: "jobserver unavailable").
r-package:
	@scripts/install-deps.sh package
	+scripts/r-package.sh

# bindings/python/dist/: a wheel (linking the release build's static libraries) and an sdist
# (the C++ sources inside), built offline.
python-wheel:
	@scripts/install-deps.sh package
	$(MAKE) bindings-libs
	SPIRAL_BUILD_DIR=$(CURDIR)/$(BUILD) scripts/python-wheel.sh

test-bindings: r python
	$(BINDINGS_ENV) SPIRAL_CLI=$(CURDIR)/$(BUILD)/spiral /usr/bin/python3 -m pytest -q -p no:cacheprovider bindings/python/tests
	$(BINDINGS_ENV) Rscript -e 'library(spiral); testthat::test_dir("bindings/r/tests/testthat", stop_on_failure = TRUE)'

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
