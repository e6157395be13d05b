#!/usr/bin/env python3
"""End-to-end benchmark of gguf-dequant on a TinyLlama-1.1B-shaped Q4_K_M model.

Generates the model (scripts/make_tinyllama_q4km.py, ~667 MB, random valid
blocks), then in ONE run, alternating, several times:
  gguf-dequant --to T IN OUT      wall, CPU (user+sys), peak RSS (ru_maxrss)
  cp OUT OUT.cp                   wall: copying a file of the output's size
and prints medians, output MB/s and the ratio to cp (absolute times on shared
VMs are noisy; the ratio within one run is the number to quote).

Usage: bench_end_to_end.py --tool build/dev/tools/gguf-dequant
           [--workdir DIR] [--to fp32 f16 bf16] [--repeat 3] [--threads N]
           [--extra-args "--no-direct-io"] [--layers 22]

Thread scaling: --threads-scan 1 2 4 ... runs gguf-dequant once per thread
count in each round (rounds alternate, --repeat of them) and prints, per
count, the median wall, CPU, output MB/s, the speed-up over the first count
and CPU / wall (how many cores were busy on average); docs/performance.md
explains where scaling stops.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "..", "scripts", "make_tinyllama_q4km.py")


def run_measured(argv):
    """Runs argv; returns (wall s, cpu s, peak RSS MiB). Raises on failure."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({proc.returncode}): {err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def scan_threads(args, model):
    """Thread scaling table: one gguf-dequant run per thread count per round."""
    for to in args.to:
        out = os.path.join(args.workdir, f"out-{to}.gguf")
        walls = {t: [] for t in args.threads_scan}
        cpus = {t: [] for t in args.threads_scan}
        for _ in range(args.repeat):
            for t in args.threads_scan:
                if os.path.exists(out):
                    os.remove(out)
                argv = [args.tool, "--quiet", "--to", to, "--threads", str(t)]
                argv += shlex.split(args.extra_args) + [model, out]
                wall, cpu, _ = run_measured(argv)
                walls[t].append(wall)
                cpus[t].append(cpu)
        out_mb = os.path.getsize(out) / 1e6
        if not args.keep:
            os.remove(out)
        print(f"\n--to {to}, output {out_mb:.0f} MB")
        print("| threads | wall | CPU | MB/s | speed-up | CPU / wall |")
        print("|---|---|---|---|---|---|")
        first = statistics.median(walls[args.threads_scan[0]])
        for t in args.threads_scan:
            w, c = statistics.median(walls[t]), statistics.median(cpus[t])
            print(f"| {t} | {w:.2f} s | {c:.2f} s | {out_mb / w:.0f} | {first / w:.2f}x "
                  f"| {c / w:.2f} |")
            print(f"<!-- {to} threads {t}: walls {['%.2f' % x for x in walls[t]]} -->")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True, help="path of the gguf-dequant binary")
    ap.add_argument("--workdir", default="/tmp/ggufkit-bench")
    ap.add_argument("--to", nargs="+", default=["fp32"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="0: the tool's default (all cores)")
    ap.add_argument("--extra-args", default="", help="more gguf-dequant flags")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--layers", type=int, default=22,
                    help="transformer layers of the generated model (22: TinyLlama)")
    ap.add_argument("--threads-scan", type=int, nargs="+", default=None,
                    help="thread counts to compare (one table per --to type)")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    suffix = "" if args.layers == 22 else f"-{args.layers}layers"
    model = os.path.join(args.workdir, f"tinyllama-1.1b-q4_k_m-random{suffix}.gguf")
    if not os.path.exists(model):
        subprocess.run([sys.executable, GENERATOR, model, "--layers", str(args.layers)],
                       check=True)
    in_mb = os.path.getsize(model) / 1e6
    print(f"model: {model} ({in_mb:.0f} MB), cores: {os.cpu_count()}")
    if args.threads_scan:
        scan_threads(args, model)
        if not args.keep:
            os.remove(model)
        return 0
    print("| target | gguf-dequant wall | CPU | peak RSS | output | MB/s | cp wall | wall / cp |")
    print("|---|---|---|---|---|---|---|---|")
    for to in args.to:
        out = os.path.join(args.workdir, f"out-{to}.gguf")
        copy = out + ".cp"
        walls, cpus, rsss, cps = [], [], [], []
        for _ in range(args.repeat):
            for f in (out, copy):
                if os.path.exists(f):
                    os.remove(f)
            argv = [args.tool, "--quiet", "--to", to]
            if args.threads:
                argv += ["--threads", str(args.threads)]
            argv += shlex.split(args.extra_args) + [model, out]
            wall, cpu, rss = run_measured(argv)
            walls.append(wall)
            cpus.append(cpu)
            rsss.append(rss)
            cps.append(run_measured(["cp", out, copy])[0])
            os.remove(copy)
        out_mb = os.path.getsize(out) / 1e6
        w, c, cp = statistics.median(walls), statistics.median(cpus), statistics.median(cps)
        print(f"| {to} | {w:.2f} s | {c:.2f} s | {max(rsss):.1f} MiB | {out_mb:.0f} MB "
              f"| {out_mb / w:.0f} | {cp:.2f} s | {w / cp:.2f} |")
        print(f"<!-- {to}: walls {['%.2f' % x for x in walls]} cp {['%.2f' % x for x in cps]} -->")
        if not args.keep:
            os.remove(out)
    if not args.keep:
        os.remove(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
