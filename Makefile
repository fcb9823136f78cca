# ja4-platform build and test entry points. `make run` and `make test` are the
# README's two commands; both install what is missing first (scripts/setup.sh).
SHELL := /bin/bash
NATIVE_TEST_DIR := build-native-tests
SANITIZE_DIR := build-native-asan
FUZZ_DIR := build-fuzz
JOBS ?= 2

.PHONY: all deps build build-native build-ts build-web build-httpd run demo test test-native test-native-asan test-js bench bench-httpd fuzz clean

all: build

deps:
	@bash scripts/setup.sh

build: deps build-native build-ts build-web build-httpd

build-native:
	@mkdir -p build
	@npx cmake-js compile --out build --CDJA4_BUILD_ADDON=ON --parallel $(JOBS) >/dev/null 2>build/cmake-js.log || (cat build/cmake-js.log; exit 1)

build-ts:
	@npx tsc -p tsconfig.json

# The dashboard's browser bundle (web/src -> web/dist, content-hashed).
build-web:
	@npx tsc -p web/tsconfig.json
	@node scripts/build-web.mjs >/dev/null

# mod_reqin_log (apxs) and its test receiver, into build/httpd/.
build-httpd:
	@$(MAKE) -s --no-print-directory -C native/httpd OUT=$(CURDIR)/build/httpd

# The main job: the whole pipeline in one process (ja4 run: simulator or
# live capture, receivers, correlator, writer) until Ctrl-C;
# RUN_ARGS="--iface eth0" etc. pass options.
run: build
	@node bin/ja4.js run $(RUN_ARGS)

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

# libFuzzer harnesses (native/fuzz/) under ASan+UBSan, each run for
# FUZZ_SECONDS from seeds made of the conformance captures and fixtures (and
# native/fuzz/seeds/: TLS events the engine wrote for those captures); a
# crash stops the target with the reproducer in build-fuzz/.
FUZZ_SECONDS ?= 60
# every harness; FUZZERS="a b" runs some (the seeds are written for all)
FUZZ_TARGETS := packet_fuzz tls_fuzz quic_fuzz http_fuzz ssh_fuzz reqin_fuzz tls_event_fuzz
FUZZERS ?= $(FUZZ_TARGETS)
fuzz:
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DJA4_BUILD_FUZZERS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_DIR) --parallel $(JOBS) >/dev/null
	@for f in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_DIR)/corpus/$$f; done
	@$(FUZZ_DIR)/fuzz_seeds $(FUZZ_DIR)/corpus $(wildcard ../shared/conformance/foxio-ja4/pcap/*) $(wildcard samples/*.pcap*) \
	  -- $(wildcard native/tests/fixtures/quic/*.hex) -- $(wildcard native/tests/fixtures/x509/*.der)
	@printf 'GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1; b=2\r\nAccept-Language: en-US\r\n\r\n' > $(FUZZ_DIR)/corpus/http_fuzz/seed0
	@sed -n '/^{"v":1/,/"truncated":\[\]}$$/p' docs/mod_reqin_log.md | tr -d '\n' > $(FUZZ_DIR)/corpus/reqin_fuzz/seed0
	@cp native/fuzz/seeds/tls_event.jsonl $(FUZZ_DIR)/corpus/tls_event_fuzz/seed0
	@for f in $(FUZZERS); do \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; \
	  (set -o pipefail; cd $(FUZZ_DIR) && ./$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$$f- corpus/$$f 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-' ) || exit 1; \
	done

# Binary RPMs for this machine and a source RPM that `rpmbuild --rebuild`
# turns into binaries on el8/el9/el10, in build/rpm (docs/operations.md).
.PHONY: rpm
# the dashboard's bundle goes into the sources (make-sources.sh takes web/dist)
rpm: build-web
	@bash packaging/rpm/build-rpm.sh $(CURDIR)/build/rpm

clean:
	rm -rf build dist $(NATIVE_TEST_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
