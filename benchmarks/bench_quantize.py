#!/usr/bin/env python3
"""End-to-end benchmark of gguf-quantize: TinyLlama-1.1B-shaped F32 -> Q4_K_M.

Generates a TinyLlama-shaped F32 GGUF (n_embd 2048, n_ff 5632, 32 heads / 4 KV
heads, vocab 32000; 22 layers = 4.4 GB by default, --layers to shrink it) from
a pool of random normal values, then in ONE run, alternating, --repeat times:
  gguf-quantize IN OUT Q4_K_M     wall, CPU (user+sys), peak RSS, input MB/s
  gguf-dequant IN OUT2            the same model through gguf-dequant (F32 -> F32)
  llama-quantize IN OUT3 Q4_K_M   only with --llama-quantize PATH
and prints medians and the ratios to gguf-dequant (and llama-quantize) of the
same run: absolute times on shared VMs are noisy, the ratios are the numbers to
quote. Reuses bench_end_to_end.run_measured.

Thread scaling: --threads-scan 1 2 4 ... runs gguf-quantize (Q4_K_M) once per
thread count per round (--repeat rounds) and prints median wall, CPU, input
MB/s, speed-up over the first count and CPU / wall; the outputs of every
count must be byte-identical (checked).

Usage: bench_quantize.py --tool build/release/tools/gguf-quantize
           --dequant build/release/tools/gguf-dequant [--layers 22] [--threads 2]
           [--repeat 1] [--workdir DIR] [--llama-quantize PATH] [--keep]
       bench_quantize.py --tool ... --dequant ... --threads-scan 1 2 4 [--repeat 3]
"""
import argparse
import os
import statistics
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_end_to_end import run_measured  # noqa: E402


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == 4:
        out += struct.pack("<I", value)
    elif vtype == 6:
        out += struct.pack("<f", value)
    elif vtype == 8:
        out += gguf_string(value)
    return out


def write_model(path, layers):
    e, ff, kvd, vocab = 2048, 5632, 256, 32000
    tensors = [("token_embd.weight", [e, vocab])]
    for i in range(layers):
        p = f"blk.{i}."
        tensors += [(p + "attn_norm.weight", [e]), (p + "attn_q.weight", [e, e]),
                    (p + "attn_k.weight", [e, kvd]), (p + "attn_v.weight", [e, kvd]),
                    (p + "attn_output.weight", [e, e]), (p + "ffn_norm.weight", [e]),
                    (p + "ffn_gate.weight", [e, ff]), (p + "ffn_up.weight", [e, ff]),
                    (p + "ffn_down.weight", [ff, e])]
    tensors += [("output_norm.weight", [e]), ("output.weight", [e, vocab])]
    meta = [kv("general.architecture", 8, "llama"), kv("general.name", 8, "tinyllama-shaped"),
            kv("general.file_type", 4, 0), kv("llama.block_count", 4, layers),
            kv("llama.embedding_length", 4, e), kv("llama.feed_forward_length", 4, ff),
            kv("llama.attention.head_count", 4, 32), kv("llama.attention.head_count_kv", 4, 4),
            kv("llama.context_length", 4, 2048), kv("llama.rope.dimension_count", 4, 64),
            kv("llama.attention.layer_norm_rms_epsilon", 6, 1e-5), kv("general.alignment", 4, 32)]
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + b"".join(meta)
    offset = 0
    sizes = []
    for name, ne in tensors:
        n = int(np.prod(ne))
        header += gguf_string(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        header += struct.pack("<IQ", 0, offset)
        sizes.append(n * 4)
        offset += (n * 4 + 31) // 32 * 32
    header += b"\0" * ((-len(header)) % 32)
    rng = np.random.default_rng(7)
    pool = (rng.standard_normal(1 << 24, dtype=np.float32) * 0.02).tobytes()  # 64 MiB
    with open(path, "wb") as f:
        f.write(header)
        k = 0
        for size in sizes:
            left = size
            while left:
                start = (k * 4099 * 4) % (len(pool) // 2)
                take = min(left, len(pool) // 2)
                f.write(pool[start:start + take])
                left -= take
                k += 1
            f.write(b"\0" * ((-size) % 32))


def digest(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def scan_threads(args, model, in_mb):
    """gguf-quantize from 1 to N threads: one run per count per round."""
    walls = {t: [] for t in args.threads_scan}
    cpus = {t: [] for t in args.threads_scan}
    rss = {t: 0.0 for t in args.threads_scan}
    digests = set()
    out = os.path.join(args.workdir, "q4km-scan.gguf")
    for _ in range(args.repeat):
        for t in args.threads_scan:
            wall, cpu, peak = run_measured(
                [args.tool, "--quiet", "--threads", str(t), model, out, "Q4_K_M"])
            walls[t].append(wall)
            cpus[t].append(cpu)
            rss[t] = max(rss[t], peak)
            digests.add(digest(out))
            os.remove(out)
    print(f"\ngguf-quantize Q4_K_M, input {in_mb:.0f} MB F32, {args.repeat} round(s), "
          f"cores {os.cpu_count()}")
    print("| threads | wall | CPU | input MB/s | speed-up | CPU / wall | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    first = statistics.median(walls[args.threads_scan[0]])
    for t in args.threads_scan:
        w, c = statistics.median(walls[t]), statistics.median(cpus[t])
        print(f"| {t} | {w:.2f} s | {c:.2f} s | {in_mb / w:.0f} | {first / w:.2f}x | {c / w:.2f} "
              f"| {rss[t]:.1f} MiB |")
        print(f"<!-- threads {t}: walls {['%.2f' % x for x in walls[t]]} -->")
    if len(digests) != 1:
        raise SystemExit(f"outputs differ between thread counts: {sorted(digests)}")
    print("outputs byte-identical across thread counts: yes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True, help="gguf-quantize")
    ap.add_argument("--dequant", required=True, help="gguf-dequant")
    ap.add_argument("--llama-quantize", default="", help="llama-quantize for a side-by-side")
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/ggufkit-bench-quantize")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--threads-scan", type=int, nargs="+", default=None,
                    help="thread counts to compare (gguf-quantize only)")
    ap.add_argument("--generate-only", default="", help=argparse.SUPPRESS)
    if "--generate-only" in sys.argv:
        i = sys.argv.index("--generate-only")
        write_model(sys.argv[i + 1], int(sys.argv[i + 2]))
        return
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, f"tinyllama-{args.layers}l-f32.gguf")
    if not os.path.exists(model):
        # In a child process: a child's ru_maxrss starts from its parent's
        # resident size at fork, so this process must stay small.
        import subprocess
        subprocess.run([sys.executable, os.path.abspath(__file__), "--generate-only", model,
                        str(args.layers)], check=True)
    in_mb = os.path.getsize(model) / 1e6
    if args.threads_scan:
        scan_threads(args, model, in_mb)
        if not args.keep:
            os.remove(model)
        return
    print(f"model: {model} ({in_mb:.0f} MB F32, {args.layers} layers), threads {args.threads}, "
          f"cores {os.cpu_count()}")
    runs = {"gguf-quantize": [], "gguf-dequant": [], "llama-quantize": []}
    outs = {}
    digests = {}
    for _ in range(args.repeat):
        out = os.path.join(args.workdir, "q4km.gguf")
        runs["gguf-quantize"].append(run_measured(
            [args.tool, "--quiet", "--threads", str(args.threads), model, out, "Q4_K_M"]))
        outs["gguf-quantize"] = os.path.getsize(out)
        digests["gguf-quantize"] = digest(out)
        os.remove(out)
        out = os.path.join(args.workdir, "dequant.gguf")
        runs["gguf-dequant"].append(run_measured(
            [args.dequant, "--quiet", "--threads", str(args.threads), model, out]))
        outs["gguf-dequant"] = os.path.getsize(out)
        os.remove(out)
        if args.llama_quantize:
            out = os.path.join(args.workdir, "llama-q4km.gguf")
            runs["llama-quantize"].append(run_measured(
                [args.llama_quantize, model, out, "Q4_K_M", str(args.threads)]))
            outs["llama-quantize"] = os.path.getsize(out)
            digests["llama-quantize"] = digest(out)
            os.remove(out)
    print("| tool | wall | CPU | peak RSS | output | input MB/s | wall / gguf-dequant | CPU / gguf-dequant |")
    print("|---|---|---|---|---|---|---|---|")
    base = statistics.median(r[0] for r in runs["gguf-dequant"])
    base_cpu = statistics.median(r[1] for r in runs["gguf-dequant"])
    for tool, rs in runs.items():
        if not rs:
            continue
        w = statistics.median(r[0] for r in rs)
        c = statistics.median(r[1] for r in rs)
        rss = max(r[2] for r in rs)
        print(f"| {tool} | {w:.2f} s | {c:.2f} s | {rss:.1f} MiB | {outs[tool] / 1e6:.0f} MB "
              f"| {in_mb / w:.0f} | {w / base:.2f} | {c / base_cpu:.1f} |")
    if runs["llama-quantize"]:
        ratio = (statistics.median(r[0] for r in runs["gguf-quantize"]) /
                 statistics.median(r[0] for r in runs["llama-quantize"]))
        same = digests["gguf-quantize"] == digests["llama-quantize"]
        print(f"gguf-quantize wall / llama-quantize wall: {ratio:.2f}; "
              f"outputs byte-identical: {'yes' if same else 'NO'} (sha256 {digests['gguf-quantize'][:16]})")
    if not args.keep:
        os.remove(model)


if __name__ == "__main__":
    main()
