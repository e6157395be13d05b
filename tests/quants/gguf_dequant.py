"""Dequantizes raw ggml blocks with the gguf package's numpy reference.

usage: gguf_dequant.py TYPE IN.bin OUT.f32 [--formula]
Exit status 3 (and a message) when gguf has no dequantizer for TYPE.
--formula: for Q8_1 and Q8_K, which gguf 0.19.0 cannot dequantize, decode
with a numpy transcription of the documented formula instead (an independent
second implementation, not gguf's).
"""
import importlib.metadata
import sys

import numpy as np
from gguf import GGMLQuantizationType
from gguf import quants


def main() -> int:
    type_name, in_path, out_path = sys.argv[1:4]
    qtype = GGMLQuantizationType[type_name.upper()]
    data = np.fromfile(in_path, dtype=np.uint8)
    if "--formula" in sys.argv[4:]:
        if qtype == GGMLQuantizationType.Q8_1:  # half d; half s; int8 qs[32]
            b = data.reshape(-1, 36)
            d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
            qs = b[:, 4:].copy().view(np.int8).astype(np.float32)
        elif qtype == GGMLQuantizationType.Q8_K:  # f32 d; int8 qs[256]; i16 bsums[16]
            b = data.reshape(-1, 292)
            d = b[:, 0:4].copy().view(np.float32)
            qs = b[:, 4:260].copy().view(np.int8).astype(np.float32)
        else:
            print(f"no formula for {type_name}")
            return 2
        (d * qs).astype(np.float32).tofile(out_path)
        return 0
    try:
        out = quants.dequantize(data, qtype)
    except NotImplementedError as e:
        print(f"gguf {importlib.metadata.version('gguf')}: {e}")
        return 3
    np.asarray(out, dtype=np.float32).tofile(out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
