#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed":
#   1. native unit tests (ctest), plain build
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. the TypeScript suites (node-tap; counts are assertions)
# Exit status is non-zero when anything failed or a suite could not run.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
passed=0
failed=0
status=0

run_ctest() {  # $1 = build dir, $2.. = extra cmake args
  local dir=$1; shift
  local log; log=$(mktemp)
  if ! cmake -S . -B "$dir" -DJA4_BUILD_TESTS=ON "$@" >"$log" 2>&1 || ! cmake --build "$dir" --parallel "$JOBS" >>"$log" 2>&1; then
    cat "$log"; echo "native build failed ($dir)"; failed=$((failed + 1)); status=1; rm -f "$log"; return
  fi
  (cd "$dir" && ctest --output-on-failure) | tee "$log"
  # "100% tests passed, 0 tests failed out of 7"
  local line; line=$(grep -a -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); status=1; rm -f "$log"; return; fi
  local f total
  f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + total - f)); failed=$((failed + f))
  [ "$f" = 0 ] || status=1
  rm -f "$log"
}

echo "== native unit tests"
run_ctest build-native-tests
echo "== native unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 run_ctest build-native-asan -DJA4_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

echo "== type check (src and tests)"
if npx tsc -p tsconfig.test.json; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

echo "== TypeScript suites (tap)"
log=$(mktemp)
npx tap --reporter=tap "$@" 2>&1 | tee "$log"
tap_status=${PIPESTATUS[0]}
# tap's closing comment: "# { total: 12, pass: 11, fail: 1 }" (grep -a: a failing
# assertion may print raw bytes, and grep would then answer "binary file matches")
summary=$(grep -a -E '^# \{ total: [0-9]+' "$log" | tail -1)
if [ -z "$summary" ]; then
  echo "tap printed no summary"; failed=$((failed + 1)); status=1
else
  tp=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); tp=${tp:-0}
  tf=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary"); tf=${tf:-0}
  passed=$((passed + tp)); failed=$((failed + tf))
fi
[ "$tap_status" = 0 ] || status=1
rm -f "$log"

echo "$passed passed, $failed failed"
exit $status
