#!/usr/bin/env python3
"""Renders docs/performance.md's quantizer tables from a bench_quantize JSON run
(--benchmark_out=run.json --benchmark_out_format=json) and checks the goals of
issue 15: searches >= 8x their scalar reference on AVX3 and >= 4x on AVX2
(in cache and on fresh data: the paired quant_fresh row, or the 64 MiB row in
runs without it), simple types >= 0.5x memcpy in cache (the paired
quant_memcpy row, or the 256 KiB row's ratio to the memcpy row in runs
without it)."""
import json
import sys

SEARCHES = ["q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs"]
SIMPLE = ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "mxfp4", "q1_0"]


def main(path):
    with open(path) as f:
        run = json.load(f)
    rows = {}
    for b in run["benchmarks"]:
        if b.get("error_occurred"):
            continue
        rows[b["name"]] = b
    targets = []
    for name in rows:
        parts = name.split("/")
        if parts[0] == "quant" and parts[2] not in ("scalar",) and parts[2] not in targets:
            targets.append(parts[2])
    types = []
    for name in rows:
        parts = name.split("/")
        if parts[0] == "quant" and parts[1] not in types:
            types.append(parts[1])
    print(f"Run: {run['context'].get('date', '?')}, {run['context'].get('num_cpus', '?')} CPUs.\n")
    for size, title in (("256KiB", "In cache: 256 KiB of f32 input"),
                        ("64MiB", "Out of cache: 64 MiB of f32 input")):
        mc = rows.get(f"memcpy/{size}", {}).get("MB/s", 0)
        print(f"### {title}\n")
        print(f"memcpy {mc / 1000:.1f} GB/s.\n")
        head = "| type | scalar MB/s | " + " | ".join(f"{t} MB/s" for t in targets[:1])
        head += f" | {targets[0]} x memcpy | " + " | ".join(f"{t} x scalar" for t in targets) + " |"
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        for t in types:
            s = rows.get(f"quant/{t}/scalar/{size}")
            if not s:
                continue
            cells = [t, f"{s['MB/s']:,.0f}"]
            best = rows.get(f"quant/{t}/{targets[0]}/{size}")
            cells.append(f"{best['MB/s']:,.0f}" if best else "-")
            cells.append(f"{best.get('x_memcpy', 0):.3f}" if best else "-")
            for tg in targets:
                r = rows.get(f"quant/{t}/{tg}/{size}")
                cells.append(f"{r.get('x_scalar', 0):.1f}x" if r else "-")
            print("| " + " | ".join(cells) + " |")
        print()
    print("### With an importance matrix, in cache (256 KiB)\n")
    print(f"| type | scalar MB/s | {targets[0]} MB/s | {targets[0]} x scalar |")
    print("|---|---|---|---|")
    for t in types:
        s = rows.get(f"quant_imatrix/{t}/scalar/256KiB")
        r = rows.get(f"quant_imatrix/{t}/{targets[0]}/256KiB")
        if s and r:
            print(f"| {t} | {s['MB/s']:,.0f} | {r['MB/s']:,.0f} | {r.get('x_scalar', 0):.1f}x |")
    print()
    print("### Fresh data, paired with the scalar reference (1 MiB slices)\n")
    print("| type | " + " | ".join(f"{t} x scalar" for t in targets) + " |")
    print("|---|" + "---|" * len(targets))
    for t in SEARCHES:
        cells = [rows.get(f"quant_fresh/{t}/{tg}/1MiB/min_time:0.500") for tg in targets]
        if any(cells):
            print(f"| {t} | " + " | ".join(
                f"{c.get('x_scalar', 0):.1f}x" if c else "-" for c in cells) + " |")
    print()
    print("### Goals of issue 15 in this run\n")
    # A search's speed-up counts in cache and on fresh data: the 256 KiB row
    # quantizes the same input again and again, and the branch predictor
    # learns the outcomes of data-dependent branches (Q3_K's descent), which
    # fresh data (every weight of a real model) never allows. Fresh data is
    # judged by the paired quant_fresh row: the 64 MiB row's ratio divides two
    # rows timed seconds apart on a VM whose speed drifts (shown, not judged).
    for t in SEARCHES:
        for tg, goal in (("AVX3", 8.0), ("AVX2", 4.0)):
            r = rows.get(f"quant/{t}/{tg}/256KiB")
            f = rows.get(f"quant/{t}/{tg}/64MiB")
            p = rows.get(f"quant_fresh/{t}/{tg}/1MiB/min_time:0.500")
            if r:
                x = r.get("x_scalar", 0)
                xf = f.get("x_scalar", 0) if f else None
                xp = p.get("x_scalar", 0) if p else None
                judged_fresh = xp if xp is not None else xf
                worst = x if judged_fresh is None else min(x, judged_fresh)
                fresh = "" if xp is None else f", {xp:.1f}x on fresh data (paired)"
                if xf is not None:
                    fresh += f", {xf:.1f}x at 64 MiB"
                print(
                    f"- {t} {tg}: {x:.1f}x scalar in cache{fresh} (>= {goal:.0f}): "
                    f"{'met' if worst >= goal else 'NOT met'}"
                )
    # The simple types are judged by the paired quant_memcpy row when the
    # run has it: the 256 KiB row's x_memcpy divides by the memcpy row, timed
    # seconds earlier on a VM whose speed drifts (shown, not judged).
    for t in SIMPLE:
        r = rows.get(f"quant/{t}/{targets[0]}/256KiB")
        p = rows.get(f"quant_memcpy/{t}/{targets[0]}/256KiB/min_time:0.200")
        if r or p:
            unpaired = r.get("x_memcpy", 0) if r else None
            x = p.get("x_memcpy", 0) if p else unpaired
            shown = f"{x:.2f}x memcpy in cache" + (" (paired)" if p else "")
            if p and unpaired is not None:
                shown += f", {unpaired:.2f}x against the memcpy row"
            print(
                f"- {t} {targets[0]}: {shown} (>= 0.5): "
                f"{'met' if x >= 0.5 else 'NOT met'}"
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "run.json")
