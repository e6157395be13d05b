#!/usr/bin/env bash
# scripts/build.sh <release|asan> : configures and builds one flavour into build/<flavour>.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="${GGUFKIT_JOBS:-$(nproc)}"
case "$flavour" in
  release)
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release ;;
  asan)
    # Sanitizer build: host code only (nvcc does not take -fsanitize). -g1:
    # line tables only, all a sanitizer report needs (function, file, line);
    # full -g made the build a third slower (36 s against 24 s for the
    # heaviest Highway file). The libraries at -O1 (ASan's recommended
    # level; the Release build checks -O2 and its warnings): the Highway
    # files compiled in about half the time (quantize_simple.cc 65 s against
    # 122 s), the whole build took a fifth less CPU, and the tests ran no
    # slower. The test files themselves at -Og: they compiled in 199 s of
    # CPU against 432 s at -O2, at the same test speed.
    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGGUFKIT_SANITIZE=ON \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DGGUFKIT_TEST_COMPILE_OPTIONS=-Og \
      -DGGUFKIT_CUDA=OFF -DGGUFKIT_BUILD_BENCHMARKS=OFF ;;
  *) echo "usage: scripts/build.sh release|asan" >&2; exit 2 ;;
esac
cmake --build "build/$flavour" -j "$jobs"
