#!/usr/bin/env python3
"""zstd in and out of gguf-dequant on the TinyLlama-1.1B-shaped Q4_K_M model.

Generates the model (scripts/make_tinyllama_q4km.py, ~667 MB, random valid
blocks) and, in ONE run, alternating, `--repeat` times:
  plain      gguf-dequant IN OUT.gguf                    (the baseline)
  out zstd:L gguf-dequant --compress zstd:L IN OUT.gguf.zst   (each level)
  in .zst    gguf-dequant IN.gguf.zst OUT.gguf           (IN compressed by `zstd -3 -T0`)
Prints medians: wall, peak RSS (ru_maxrss), the file written, its size, the
fp32 output size over the compressed size, and MB/s of fp32 output (the
uncompressed bytes produced per second). Absolute times on shared VMs are
noisy: compare rows of one run.

Usage: bench_zstd.py --tool build/dev/tools/gguf-dequant [--workdir DIR]
           [--levels 1 3 9] [--repeat 3] [--threads N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

# The same generated model and measuring runner as the end-to-end benchmark.
from bench_end_to_end import GENERATOR, run_measured


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True, help="path of the gguf-dequant binary")
    ap.add_argument("--workdir", default="/tmp/ggufkit-bench-zstd")
    ap.add_argument("--levels", nargs="+", type=int, default=[1, 3])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="0: the tool's default (all cores)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, "tinyllama-1.1b-q4_k_m-random.gguf")
    if not os.path.exists(model):
        subprocess.run([sys.executable, GENERATOR, model], check=True)
    model_zst = model + ".zst"
    start = time.monotonic()
    subprocess.run(["zstd", "-q", "-f", "-3", "-T0", model, "-o", model_zst], check=True)
    zstd_cli_wall = time.monotonic() - start
    in_mb, in_zst_mb = os.path.getsize(model) / 1e6, os.path.getsize(model_zst) / 1e6
    print(f"model: {model} ({in_mb:.0f} MB; `zstd -3 -T0`: {in_zst_mb:.0f} MB, "
          f"{in_mb / zstd_cli_wall:.0f} MB/s), cores: {os.cpu_count()}")

    threads = ["--threads", str(args.threads)] if args.threads else []
    cases = [("plain", [], model, "out.gguf")]
    for level in args.levels:
        cases.append((f"--compress zstd:{level}", ["--compress", f"zstd:{level}"], model,
                      f"out-l{level}.gguf.zst"))
    cases.append(("input .gguf.zst", [], model_zst, "out-from-zst.gguf"))
    results = {name: ([], []) for name, _, _, _ in cases}
    sizes = {}
    for _ in range(args.repeat):
        for name, flags, src, out in cases:
            path = os.path.join(args.workdir, out)
            if os.path.exists(path):
                os.remove(path)
            wall, _, rss = run_measured([args.tool, "--quiet"] + threads + flags + [src, path])
            results[name][0].append(wall)
            results[name][1].append(rss)
            sizes[name] = os.path.getsize(path)
            if name != "plain":
                os.remove(path)
    fp32 = sizes["plain"]
    print("| run | wall | peak RSS | written | fp32 / written | MB/s of fp32 |")
    print("|---|---|---|---|---|---|")
    for name, _, _, _ in cases:
        walls, rsss = results[name]
        w = statistics.median(walls)
        print(f"| {name} | {w:.2f} s | {max(rsss):.1f} MiB | {sizes[name] / 1e6:.0f} MB "
              f"| {fp32 / sizes[name]:.2f} | {fp32 / 1e6 / w:.0f} |")
        print(f"<!-- {name}: walls {['%.2f' % x for x in walls]} -->")
    if not args.keep:
        for f in (model, model_zst, os.path.join(args.workdir, "out.gguf")):
            os.remove(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
