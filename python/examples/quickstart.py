#!/usr/bin/env python3
"""A first look at a GGUF model with the ggufkit Python package (scripts/quickstart.sh runs it
on the bundled sample): metadata, tensors, bit-exact dequantization into a reused buffer, the
gguf-py compatible codecs, and an error.

Usage: quickstart.py MODEL.gguf
"""
import sys

import numpy as np

import ggufkit


def main(path: str) -> int:
    with ggufkit.GGUFFile(path) as f:
        print(f"{path}: GGUF v{f.version}, {len(f.metadata)} metadata keys, {len(f)} tensors")
        for key in list(f.metadata)[:4]:
            print(f"  {key} ({f.metadata_types[key]}) = {f.metadata[key]!r}")
        biggest = max(t.n_elements for t in f.tensors)
        buf = np.empty(biggest, np.float32)  # one buffer for every tensor: no per-tensor alloc
        for t in f.tensors:
            w = f.read(t.name, out=buf[:t.n_elements].reshape(t.shape))
            print(f"  {t.name:18} {t.type_name:6} {str(t.shape):16} mean {w.mean():+.6f} "
                  f"absmax {np.abs(w).max():.4f}")
        # The stored bytes (a zero-copy mmap view) through the gguf-py compatible codec:
        t = f.tensors[-1]
        same = ggufkit.dequantize(f.raw(t.name), t.type).reshape(t.shape)
        assert same.tobytes() == f.read(t.name).tobytes()
        # Requantize a row range to q8_0 and back.
        rows = f.read(t.name, rows=(0, 2))
        q = ggufkit.quantize(rows, "Q8_0")
        err = np.abs(ggufkit.dequantize(q, "Q8_0") - rows).max()
        print(f"  {t.name} rows 0-1 -> q8_0 {q.shape} bytes, max error {err:.5f}")
    try:
        ggufkit.GGUFFile(path + ".missing")
    except ggufkit.GGUFError as e:  # a ValueError with the CLI's message
        print(f"  error as expected: {e}")
    print("quickstart: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/sample/tiny-q4_K.gguf"))
