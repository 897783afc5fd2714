# ml-engine: the two commands are `make run` and `make test`; both install what is missing
# (scripts/setup.sh) and build first.
BUILD_DIR  ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
ENGINE      = $(BUILD_DIR)/bin/ml-engine
# ccache keyed on paths relative to the checkout, so every clone shares one cache.
export CCACHE_BASEDIR = $(CURDIR)
export CCACHE_NOHASHDIR = 1
# Lets ccache cache the translation units built with LibTorch's precompiled header.
export CCACHE_SLOPPINESS = pch_defines,time_macros

.PHONY: all setup configure build run test bench asan format clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The main job: train and evaluate cnn_mnist, then serve it (Ctrl-C stops the server).
run: build
	$(ENGINE) quickstart
	$(ENGINE) serve

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

bench: build
	@bash bench/run.sh $(BUILD_DIR)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	@$(MAKE) test BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo \
	  CMAKE_ARGS="-DMLE_SANITIZE=address,undefined -DMLE_BUILD_BENCH=OFF"

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-asan
