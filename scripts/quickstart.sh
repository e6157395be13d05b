#!/usr/bin/env bash
# Sets up, builds (Release) and runs the main job on the bundled sample model,
# then installs the Python package into .venv and runs its example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# shellcheck source=scripts/ccache_env.sh
. scripts/ccache_env.sh
scripts/build.sh release
sample=tests/data/sample/tiny-q4_K.gguf
if [ -x build/release/tools/gguf-dequant ]; then
  out="${TMPDIR:-/tmp}/ggufkit-sample-f32.gguf"
  build/release/tools/gguf-dequant --to fp32 "$sample" "$out"
  build/release/tools/gguf-inspect "$out"
else
  build/release/tools/gguf-inspect "$sample"
fi
echo "quickstart: installing the Python package (pip install . into .venv)"
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-${GGUFKIT_JOBS:-$(nproc)}}" \
  .venv/bin/python -m pip install --disable-pip-version-check -q .
.venv/bin/python python/examples/quickstart.py "$sample"
