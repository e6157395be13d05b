#!/usr/bin/env python3
"""Renders a bench_dequant JSON run as the Markdown tables of docs/performance.md.

    build/release/benchmarks/bench_dequant --benchmark_out=run.json --benchmark_out_format=json
    scripts/bench_dequant_table.py run.json

Every number comes from the one run in the file, so the ratios compare rows measured together.
The last section checks the targets of issue 6 against that run and prints which are met.
"""
import argparse
import json
import sys
from collections import OrderedDict

TARGETS = ["AVX3", "AVX2", "SSE4", "SSSE3"]
MISSION = ["q8_0", "q4_K", "q6_K", "q1_0"]
IN_CACHE, OUT_OF_CACHE = "256KiB", "64MiB"


def load(path):
    with open(path) as f:
        run = json.load(f)
    rows = OrderedDict()
    for b in run["benchmarks"]:
        if b.get("run_type", "iteration") == "iteration":
            rows[b["name"]] = b
    return run.get("context", {}), rows


def fmt(x, digits=1):
    return "—" if x is None else f"{x:.{digits}f}"


def weight_table(rows, size):
    types = OrderedDict()
    for name in rows:
        parts = name.split("/")
        if len(parts) == 4 and parts[0] == "dequant" and parts[3] == size:
            types.setdefault(parts[1], None)
    head = "| type | scalar GB/s | AVX3 GB/s | AVX3 x memset | " + " | ".join(
        f"{t} x scalar" for t in TARGETS) + " |"
    lines = [head, "|" + "---|" * (4 + len(TARGETS))]
    for t in types:
        scalar = rows.get(f"dequant/{t}/scalar/{size}", {})
        best = rows.get(f"dequant/{t}/AVX3/{size}", {})
        cells = [t, fmt(scalar.get("GB/s")), fmt(best.get("GB/s")), fmt(best.get("x_memset"), 2)]
        cells += [fmt(rows.get(f"dequant/{t}/{tg}/{size}", {}).get("x_scalar")) for tg in TARGETS]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def half_output_table(rows, size):
    lines = ["| AVX3, output | f16 GB/s | f16 x memset | bf16 GB/s | bf16 x memset |",
             "|---|---|---|---|---|"]
    for t in MISSION:
        f16 = rows.get(f"dequant_f16/{t}/AVX3/{size}", {})
        bf16 = rows.get(f"dequant_bf16/{t}/AVX3/{size}", {})
        lines.append(f"| {t} | {fmt(f16.get('GB/s'))} | {fmt(f16.get('x_memset'), 2)} | "
                     f"{fmt(bf16.get('GB/s'))} | {fmt(bf16.get('x_memset'), 2)} |")
    return lines


def kv_table(rows):
    lines = ["| operation | scalar GB/s | AVX3 GB/s | x scalar |", "|---|---|---|---|"]
    for name, b in rows.items():
        parts = name.split("/")
        if parts[0] == "kv" and parts[2] == "AVX3":
            scalar = rows.get(f"kv/{parts[1]}/scalar/{parts[3]}", {})
            lines.append(f"| {parts[1]} | {fmt(scalar.get('GB/s'), 2)} | {fmt(b.get('GB/s'), 2)} | "
                         f"{fmt(b.get('x_scalar'))} |")
    return lines


def check_targets(rows):
    """Issue 6's targets on the best target (AVX3), single thread."""
    lines, all_met = [], True
    for t in MISSION:
        r = rows.get(f"dequant/{t}/AVX3/{OUT_OF_CACHE}", {}).get("x_memset")
        ok = r is not None and r >= 0.8
        all_met &= ok
        lines.append(f"- out of cache {t}: {fmt(r, 2)}x memset (>= 0.8): {'met' if ok else 'NOT met'}")
    memset = rows.get(f"memset/{IN_CACHE}", {}).get("GB/s")
    passed, failed = [], []
    for name, b in rows.items():
        parts = name.split("/")
        if len(parts) == 4 and parts[0] == "dequant" and parts[2] == "AVX3" and parts[3] == IN_CACHE:
            need = 8.0 if parts[1] in ("q1_0", "q6_K") else 4.0
            r = b.get("x_scalar")
            if r is not None and r >= need:
                passed.append(f"{parts[1]} {fmt(r)}x")
                continue
            all_met = False
            scalar = rows.get(f"dequant/{parts[1]}/scalar/{IN_CACHE}", {}).get("GB/s")
            ceiling = memset / scalar if memset and scalar else None
            failed.append(f"- in cache {parts[1]}: {fmt(r)}x scalar (>= {need:.0f}): NOT met; the "
                          f"memset row allows at most {fmt(ceiling)}x")
    lines.append("- in cache, >= 4x scalar (q1_0, q6_K >= 8x) met by: " + ", ".join(passed))
    return lines + failed, all_met


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json_file")
    args = ap.parse_args()
    context, rows = load(args.json_file)
    out = [f"Run: {context.get('date', '?')}, {context.get('num_cpus', '?')} CPUs.", ""]
    for size, title in ((IN_CACHE, "In cache: 256 KiB of fp32 output"),
                        (OUT_OF_CACHE, "Out of cache: 64 MiB of fp32 output (x memset paired)")):
        memset = rows.get(f"memset/{size}", {}).get("GB/s")
        memcpy = rows.get(f"memcpy/{size}", {}).get("GB/s")
        out += [f"### {title}", "", f"memset {fmt(memset)} GB/s, memcpy {fmt(memcpy)} GB/s.", ""]
        out += weight_table(rows, size) + [""] + half_output_table(rows, size) + [""]
    out += ["### KV cache codecs, in cache", ""] + kv_table(rows) + [""]
    checks, _ = check_targets(rows)
    out += ["### Issue 6 targets in this run (AVX3)", ""] + checks
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
