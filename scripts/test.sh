#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, then a Release build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build, each running every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs="${GGUFKIT_JOBS:-$(nproc)}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for flavour in release asan; do
  echo "=== $flavour build"
  scripts/build.sh "$flavour"
  echo "=== $flavour tests"
  ctest --test-dir "build/$flavour" --output-on-failure -j "$jobs"
done
echo "=== all tests passed (release and asan)"
