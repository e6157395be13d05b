#!/usr/bin/env python3
"""ggufkit (Python package) vs gguf-py's numpy dequantizer, one thread, same run.

Generates a TinyLlama-1.1B-shaped Q4_K_M model (scripts/make_tinyllama_q4km.py: random
valid blocks, ~667 MB), then dequantizes every tensor to float32 three ways, tensor by
tensor, alternating:
  gguf-py   gguf.quants.dequantize(reader.tensors[i].data, type)   (GGUFReader's memmap)
  drop-in   ggufkit.dequantize(same data, type, threads=1)          (a new array, as gguf-py)
  file+out  GGUFFile.read(name, out=buf, threads=1)                 (pread, one reused buffer)
checks that the three arrays are equal bit for bit, and prints the summed times and the
ratios. Times are CPU seconds of this process (each method runs on one thread), which a
shared, oversubscribed machine distorts far less than wall time; wall is printed too. The
memmap pages are touched once before timing so no method pays the first page faults of the
input. A new float32 array costs its first-touch page faults (the kernel zeroing it) on top
of the dequantization: that is the difference between drop-in and file+out. Goal: >= 50x.

Usage: bench_python.py [--workdir DIR] [--layers N] [--repeat R (default 2)] [--keep]
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

import gguf
from gguf import quants as gq

import ggufkit

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "..", "scripts", "make_tinyllama_q4km.py")


def best_of(repeat, fn):
    """(cpu seconds, wall seconds, result) of the fastest of `repeat` calls (by CPU time)."""
    best, result = (float("inf"), float("inf")), None
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        result = fn()
        best = min(best, (time.process_time() - c, time.perf_counter() - w))
    return best[0], best[1], result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/ggufkit-bench")
    ap.add_argument("--layers", type=int, default=22, help="22: TinyLlama-1.1B")
    ap.add_argument("--repeat", type=int, default=2, help="best of R per tensor and method")
    ap.add_argument("--keep", action="store_true", help="keep the generated model")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, f"tinyllama-q4_k_m-random-{args.layers}l.gguf")
    if not os.path.exists(model):
        subprocess.run([sys.executable, GENERATOR, model, "--layers", str(args.layers)],
                       check=True)
    reader = gguf.GGUFReader(model)
    for t in reader.tensors:  # touch the input mapping once, outside the timings
        int(np.asarray(t.data).view(np.uint8)[..., ::4096].sum())
    cpu = {"gguf-py": 0.0, "drop-in": 0.0, "file+out": 0.0}
    wall = dict(cpu)
    n_elements = 0
    by_type = {}
    try:
        with ggufkit.GGUFFile(model) as f:
            biggest = max(t.n_elements for t in f.tensors)
            buf = np.empty(biggest, np.float32)
            for t in reader.tensors:
                info = f.tensor(t.name)
                out = buf[:info.n_elements].reshape(info.shape)
                data = t.data
                runs = {
                    "gguf-py": best_of(args.repeat, lambda: gq.dequantize(data, t.tensor_type)),
                    "drop-in": best_of(args.repeat,
                                       lambda: ggufkit.dequantize(data, t.tensor_type,
                                                                  threads=1)),
                    "file+out": best_of(args.repeat,
                                        lambda: f.read(t.name, out=out, threads=1)),
                }
                arrays = [np.asarray(r[2], np.float32).reshape(info.shape).tobytes()
                          for r in runs.values()]
                if not arrays[0] == arrays[1] == arrays[2]:
                    print(f"MISMATCH in {t.name}", file=sys.stderr)
                    return 1
                for k, (c, w, _) in runs.items():
                    cpu[k] += c
                    wall[k] += w
                n_elements += info.n_elements
                agg = by_type.setdefault(t.tensor_type.name, [0, 0.0, 0.0, 0.0])
                agg[0] += info.n_elements
                agg[1] += runs["gguf-py"][0]
                agg[2] += runs["drop-in"][0]
                agg[3] += runs["file+out"][0]
    finally:
        if not args.keep:
            os.remove(model)

    print(f"model: {os.path.basename(model)} ({len(reader.tensors)} tensors, "
          f"{n_elements / 1e6:.0f} M elements), one thread, SIMD target "
          f"{ggufkit._core.active_target()}; all arrays bit-identical")
    print("| method | CPU s | M elements/s (CPU) | vs gguf-py (CPU) | wall s | vs gguf-py (wall) |")
    print("|---|---|---|---|---|---|")
    for k in cpu:
        print(f"| {k} | {cpu[k]:.2f} | {n_elements / cpu[k] / 1e6:.0f} | "
              f"{cpu['gguf-py'] / cpu[k]:.1f}x | {wall[k]:.2f} | {wall['gguf-py'] / wall[k]:.1f}x |")
    print("| type | M elements | gguf-py CPU s | drop-in | file+out | ratios |")
    print("|---|---|---|---|---|---|")
    for name, (n, a, b, c) in sorted(by_type.items()):
        print(f"| {name} | {n / 1e6:.0f} | {a:.2f} | {b:.3f} | {c:.3f} | "
              f"{a / b:.0f}x / {a / c:.0f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
