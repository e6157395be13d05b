#!/usr/bin/env python3
"""Writes tests/data/sample/endian-{le,be}.gguf: one small model in both byte
orders, the big-endian one made by gguf-py's own converter
(gguf/scripts/gguf_convert_endian.py), so that ggufkit's big-endian decoding is
checked against an implementation that is not ours.

Types: every type gguf_convert_endian.py converts (F32, F16, BF16, Q4_0, Q8_0,
Q4_K, Q6_K, MXFP4). Block bytes are random with finite fp16 scales.

  .venv/bin/python scripts/make_endian_samples.py tests/data/sample
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import gguf

T = gguf.GGMLQuantizationType


def random_blocks(rng, qtype, n_blocks):
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    # fp16 scale offsets (ggml-common.h): finite values only.
    halves = {T.Q4_0: [0], T.Q8_0: [0], T.Q4_K: [0, 2], T.Q6_K: [208]}.get(qtype, [])
    for off in halves:
        h = rng.uniform(-0.5, 0.5, size=n_blocks).astype(np.float16).view(np.uint8).reshape(-1, 2)
        raw[:, off:off + 2] = h
    if qtype == T.MXFP4:
        raw[:, 0] = rng.integers(100, 140, size=n_blocks, dtype=np.uint8)  # e8m0 near 1.0
    return raw


def main():
    out_dir = sys.argv[1]
    rng = np.random.default_rng(20261204)
    le = os.path.join(out_dir, "endian-le.gguf")
    w = gguf.GGUFWriter(le, "llama")
    w.add_name("endian sample")
    w.add_uint32("sample.u32", 0x01020304)
    w.add_array("sample.f32s", [1.5, -2.25, 3.0])
    w.add_tensor("f32", rng.standard_normal((3, 64)).astype(np.float32))
    w.add_tensor("f16", rng.standard_normal((3, 64)).astype(np.float16))
    bf16 = (rng.standard_normal((3, 64)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    w.add_tensor("bf16", bf16.view(np.uint8), raw_dtype=T.BF16)
    for name, qtype, rows, cols in [("q4_0", T.Q4_0, 3, 64), ("q8_0", T.Q8_0, 3, 64),
                                    ("q4_K", T.Q4_K, 2, 512), ("q6_K", T.Q6_K, 2, 512),
                                    ("mxfp4", T.MXFP4, 3, 64)]:
        block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = rows * cols // block_elems
        raw = random_blocks(rng, qtype, n_blocks).reshape(rows, cols // block_elems * block_bytes)
        w.add_tensor(name, raw, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    be = os.path.join(out_dir, "endian-be.gguf")
    shutil.copyfile(le, be)
    script = os.path.join(os.path.dirname(gguf.__file__), "scripts", "gguf_convert_endian.py")
    subprocess.run([sys.executable, script, be, "big"], input=b"YES\n", check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
