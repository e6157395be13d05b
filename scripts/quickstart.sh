#!/usr/bin/env bash
# Sets up, builds (Release) and runs the main job on the bundled sample model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
sample=tests/data/sample/tiny-q4_K.gguf
if [ -x build/release/tools/gguf-dequant ]; then
  out="${TMPDIR:-/tmp}/ggufkit-sample-f32.gguf"
  build/release/tools/gguf-dequant --to fp32 "$sample" "$out"
  build/release/tools/gguf-inspect "$out"
else
  build/release/tools/gguf-inspect "$sample"
fi
