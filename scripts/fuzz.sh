#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# Builds the libFuzzer targets of tests/fuzz into build/fuzz (clang, ASan +
# UBSan everywhere, the libraries instrumented for coverage) and runs each one
# for a bounded time (default 30 s, or $GGUFKIT_FUZZ_SECONDS), up to
# $GGUFKIT_JOBS (default: nproc) at a time ($GGUFKIT_FUZZ_TARGETS: a subset). Exits non-zero on any finding
# (crash, sanitizer report, leak, timeout, out-of-memory): the reproducer is
# left in build/fuzz/findings/ and its path printed. Turn a finding into a
# regression file in tests/data/malformed/ (see docs/security.md); every file
# there is replayed by each run, since it is part of the seed corpus.
#
# Seeds: the golden GGUF files and the malformed corpus (reader, split), the
# golden raw block files prefixed with their type id (dequantizer), the golden
# f32 input (KV codecs). The working corpora in build/fuzz/corpus/ persist and
# grow between runs. Dictionary: tests/fuzz/gguf.dict.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${GGUFKIT_FUZZ_SECONDS:-30}}"
jobs="${GGUFKIT_JOBS:-$(nproc)}"
build=build/fuzz
all_targets="fuzz_reader fuzz_split fuzz_dequant fuzz_kv fuzz_roundtrip fuzz_dequant_model"
# GGUFKIT_FUZZ_TARGETS="fuzz_reader fuzz_kv" runs only those.
read -r -a targets <<< "${GGUFKIT_FUZZ_TARGETS:-$all_targets}"

for tool in clang clang++; do
  command -v "$tool" > /dev/null || { echo "fuzz.sh: $tool not found (apt install clang libclang-rt-14-dev)" >&2; exit 2; }
done

# The fuzzers run the best Highway target of the machine (DequantizeBlocks and
# the quantizers dispatch to it), so only that target is compiled: its
# instruction sets are the baseline (the flags Highway 1.0.3's
# detect_targets.h asks for AVX2 and AVX3) and HWY_COMPILE_ONLY_STATIC drops
# every other. The build took 76 s instead of 208 s (2 cores). A machine
# without AVX2 (or not x86) gets the dynamic build, less SSSE3 and SSE4.
cpu_flags=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo 2> /dev/null | head -1) "
has() {
  local f
  for f; do [[ "$cpu_flags" == *" $f "* ]] || return 1; done
}
target_flags=""
hwy_disabled="HWY_SSSE3|HWY_SSE4"
target="dynamic (every target but SSSE3 and SSE4)"
if has ssse3 sse4_1 sse4_2 pclmulqdq aes bmi1 bmi2 fma f16c avx2 abm popcnt; then
  target_flags="-mssse3 -msse4.1 -msse4.2 -mpclmul -maes -mbmi -mbmi2 -mfma -mf16c -mavx2 -mlzcnt -mpopcnt"
  target="AVX2"
  if has avx512f avx512bw avx512dq avx512vl; then
    target_flags+=" -mavx512f -mavx512bw -mavx512dq -mavx512vl"
    target="AVX3"
  fi
  target_flags+=" -DHWY_COMPILE_ONLY_STATIC"
  hwy_disabled=""
fi
echo "=== fuzz: configure + build ($build, Highway target: $target)"
# -g1 (line tables) as in scripts/build.sh's asan flavour: enough for reports.
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $target_flags" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link $target_flags" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DGGUFKIT_SANITIZE=ON -DGGUFKIT_BUILD_FUZZERS=ON -DGGUFKIT_CUDA=OFF \
  -DGGUFKIT_BUILD_BENCHMARKS=OFF -DGGUFKIT_WERROR=OFF \
  "-DGGUFKIT_HWY_DISABLED_TARGETS=$hwy_disabled" > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

echo "=== fuzz: seeds"
seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$build/corpus" "$build/findings" "$build/logs"
for t in $all_targets; do mkdir -p "$seeds/$t" "$build/corpus/$t"; done
golden="$build/testdata/golden"
for f in "$golden"/ggml/*.gguf "$golden"/real/*.gguf tests/data/malformed/*.gguf \
         tests/data/malformed/valid/*.gguf; do
  [ -f "$f" ] || continue
  # The first 64 KiB (libFuzzer's -max_len below): header, metadata, infos.
  head -c 65536 "$f" > "$seeds/fuzz_reader/$(basename "$f")"
done
cp tests/data/malformed/*.gguf tests/data/malformed/valid/*.gguf "$seeds/fuzz_split/"
# Past findings (inputs of any target): every run replays them.
for t in "${targets[@]}"; do
  cp tests/data/malformed/fuzz_regressions/* "$seeds/$t/" 2> /dev/null || true
done
# Whole-model seeds: "<file> <choice byte>" (output type and format).
for f in tests/data/malformed/valid/*.gguf tests/data/malformed/*.gguf "$golden"/ggml/q1_0.gguf \
         "$golden"/ggml/tq1_0.gguf; do
  [ -f "$f" ] || continue
  for choice in 00 05 0a; do
    { cat "$f"; printf "\x$choice"; } > "$seeds/fuzz_dequant_model/$(basename "$f").$choice"
  done
done
# Dequantizer seeds: "<type id> <output type> <blocks>" from golden/ggml/<type>.q.
while read -r name id; do
  q="$golden/ggml/$name.q"
  [ -f "$q" ] || continue
  for out in 0 1 2; do
    { printf "\\x$(printf %02x "$id")\\x0$out"; head -c 2046 "$q"; } > "$seeds/fuzz_dequant/$name.$out"
  done
done < <(sed -n 's/^ *k\([A-Z0-9_]*\) = \([0-9]*\),.*/\1 \2/p' quants/type_traits.h |
         while read -r n i; do echo "$(echo "$n" | tr 'A-Z' 'a-z' | sed 's/_k$/_K/') $i"; done)
# KV seeds: every cache type x a few shapes over the golden f32 input.
for t in 0 1 2 3 4 5 6; do
  for shape in 00 31 62; do
    { printf "\\x0$t\\x$shape\\x01"; head -c 8189 "$golden/ggml/input.f32"; } > "$seeds/fuzz_kv/$t.$shape"
  done
done

echo "=== fuzz: ${#targets[@]} targets x ${seconds}s, $jobs at a time"
status=0
# Inputs larger than this are not tried: headers and block runs this size
# already reach every branch, and small inputs keep the rate high.
max_len() {
  case "$1" in
    fuzz_dequant) echo 2048 ;;
    fuzz_kv) echo 8192 ;;
    fuzz_dequant_model) echo 49152 ;;
    *) echo 65536 ;;
  esac
}
run_one() {
  local t="$1"
  mkdir -p "$build/tmp/$t"
  TMPDIR="$PWD/$build/tmp/$t" "$build/tests/fuzz/$t" "$build/corpus/$t" "$seeds/$t" \
    -dict=tests/fuzz/gguf.dict -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t-" > "$build/logs/$t.log" 2>&1
}
pids=()
names=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
  run_one "$t" &
  pids+=($!)
  names+=("$t")
done
for i in "${!pids[@]}"; do
  t="${names[$i]}"
  if wait "${pids[$i]}"; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$build/logs/$t.log" | tail -1)
    echo "  $t: ok (${execs:-?} runs, ${cov:-cov: ?})"
  else
    status=1
    echo "  $t: FINDING — log $build/logs/$t.log" >&2
    grep -E "ERROR|SUMMARY|FUZZ_CHECK|runtime error|Test unit written" "$build/logs/$t.log" | head -20 >&2 || true
  fi
done
if [ "$status" -ne 0 ]; then
  echo "=== fuzz: FINDINGS (reproducers in $build/findings/)" >&2
  exit 1
fi
echo "=== fuzz: no findings"
