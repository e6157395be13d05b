#!/usr/bin/env python3
"""Prints the C++ sign and centroid/threshold tables of quants/turbo.h from a
turbo golden manifest (golden/turbo/<variant>/manifest.json).

The tables are format constants of the TurboQuant fork; the manifest holds them
as parsed from the fork's compiled reference. Usage:
  scripts/gen_turbo_tables.py golden/turbo/v1/manifest.json golden/turbo/current/manifest.json
"""
import json
import sys


def fmt_signs(name, signs):
    out = [f"inline constexpr float {name}[kTurboGroupSize] = {{"]
    for row in range(0, 128, 16):
        out.append("    " + ", ".join(f"{s:+d}.f" for s in signs[row:row + 16]) + ",")
    out.append("};")
    return "\n".join(out)


def fmt_table(name, values):
    items = [f"{v:.6f}f" for v in values]
    lines = [f"inline constexpr float {name}[{len(values)}] = {{"]
    for i in range(0, len(items), 8):
        lines.append("    " + ", ".join(items[i:i + 8]) + ",")
    lines.append("};")
    return "\n".join(lines)


def main(paths):
    # The sign tables are the same in every set; turbo2 is the same in both.
    printed = set()
    for path in paths:
        with open(path) as f:
            m = json.load(f)
        suffix = "V1" if m["set"] == "turbo-snapshot" else ""
        if "signs" not in printed:
            print(fmt_signs("kTurboSigns1", m["wht"]["s1"]))
            print(fmt_signs("kTurboSigns2", m["wht"]["s2"]))
            printed.add("signs")
        for t in m["types"]:
            bits = t["name"][-1]
            name_suffix = "" if bits == "2" else suffix
            if (bits, name_suffix) in printed:
                continue
            printed.add((bits, name_suffix))
            print(fmt_table(f"kTurbo{bits}BitCentroids{name_suffix}", t["centroids"]))
            print(fmt_table(f"kTurbo{bits}BitThresholds{name_suffix}", t["thresholds"]))


if __name__ == "__main__":
    main(sys.argv[1:])
