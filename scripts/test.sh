#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, then a Release build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build, each running every test
# (after the Release tests: the Python package, built and tested by
# scripts/test_python.sh), then a bounded libFuzzer run of every fuzz target (ASan + UBSan, clang).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
stage() { echo "=== [$((SECONDS - start))s] $*"; }
stage setup
scripts/setup.sh
# shellcheck source=scripts/ccache_env.sh
. scripts/ccache_env.sh
jobs="${GGUFKIT_JOBS:-$(nproc)}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# The cross-checks against the Python reference packages (gguf, numpy,
# safetensors; setup.sh installs them in .venv) skip when those are missing;
# CI requires them: a missing package fails the test instead.
export GGUFKIT_REQUIRE_PYTHON_REFS=1
for flavour in release asan; do
  if [ "$flavour" = asan ]; then
    # ccache pays only where a later build takes the objects (Release ->
    # Python package); on the sanitizer and fuzz builds, all misses in a
    # clean clone, its preprocessing only costs (ASan build 394 s with it,
    # 359 s without, in two runs of the same code).
    unset CMAKE_C_COMPILER_LAUNCHER CMAKE_CXX_COMPILER_LAUNCHER
  fi
  stage "$flavour build"
  scripts/build.sh "$flavour"
  stage "$flavour tests"
  ctest --test-dir "build/$flavour" --output-on-failure -j "$jobs"
  if [ "$flavour" = release ]; then
    stage "python package (pip install . into .venv, pytest python/tests)"
    CMAKE_BUILD_PARALLEL_LEVEL="$jobs" scripts/test_python.sh
  fi
done
stage "fuzz (libFuzzer, ASan + UBSan, ${GGUFKIT_FUZZ_SECONDS:-30} s per target)"
scripts/fuzz.sh "${GGUFKIT_FUZZ_SECONDS:-30}"
stage "all tests passed (release, asan, fuzz)"
