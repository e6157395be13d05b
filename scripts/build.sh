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
    # Sanitizer build: host code only (nvcc does not take -fsanitize).
    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGGUFKIT_SANITIZE=ON \
      -DGGUFKIT_CUDA=OFF -DGGUFKIT_BUILD_BENCHMARKS=OFF ;;
  *) echo "usage: scripts/build.sh release|asan" >&2; exit 2 ;;
esac
cmake --build "build/$flavour" -j "$jobs"
