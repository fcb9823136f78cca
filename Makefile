# ja4-platform build and test entry points. `make run` and `make test` are the
# README's two commands; both install what is missing first (scripts/setup.sh).
SHELL := /bin/bash
NATIVE_TEST_DIR := build-native-tests
SANITIZE_DIR := build-native-asan
FUZZ_DIR := build-fuzz
JOBS ?= 2

.PHONY: all deps build build-native build-ts build-httpd run demo test test-native test-native-asan test-js bench bench-httpd fuzz clean

all: build

deps:
	@bash scripts/setup.sh

build: deps build-native build-ts build-httpd

build-native:
	@mkdir -p build
	@npx cmake-js compile --out build --CDJA4_BUILD_ADDON=ON --parallel $(JOBS) >/dev/null 2>build/cmake-js.log || (cat build/cmake-js.log; exit 1)

build-ts:
	@npx tsc -p tsconfig.json

# mod_reqin_log (apxs) and its test receiver, into build/httpd/.
build-httpd:
	@$(MAKE) -s --no-print-directory -C native/httpd OUT=$(CURDIR)/build/httpd

# The main job. For now: fingerprint the bundled sample captures.
run: build
	@node bin/ja4.js demo

# Every test: native unit tests (plain and under ASan+UBSan), then the
# TypeScript suites; ends with "N passed, N failed".
test: build
	@bash scripts/run-tests.sh

test-native:
	@cmake -S . -B $(NATIVE_TEST_DIR) -DJA4_BUILD_TESTS=ON >/dev/null
	@cmake --build $(NATIVE_TEST_DIR) --parallel $(JOBS) >/dev/null
	@cd $(NATIVE_TEST_DIR) && ctest --output-on-failure

test-native-asan:
	@cmake -S . -B $(SANITIZE_DIR) -DJA4_BUILD_TESTS=ON -DJA4_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(SANITIZE_DIR) --parallel $(JOBS) >/dev/null
	@cd $(SANITIZE_DIR) && ctest --output-on-failure

test-js:
	@npx tap

bench: build
	@npm run --silent bench:pcap

bench-httpd: build-httpd
	@npm run --silent bench:httpd

clean:
	rm -rf build dist $(NATIVE_TEST_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
