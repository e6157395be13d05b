"""Independent cross-checks for tests/verify (Python: hashlib, numpy, gguf-py,
safetensors). Each subcommand prints what it computed, or "FAIL: ..." with a
non-zero exit.

  hashes FILE                     gguf-hash listing (sha1 + sha256) from the
                                  tensor bytes gguf-py locates
  make-input-gguf IN.f32 OUT      GGUF with blk.0.weight = IN.f32 (25 x 4096 f32)
  make-hf-safetensors IN.f32 OUT  HF-style safetensors: model.layers.0.weight
  make-hf-sharded IN.f32 PREFIX   the same as PREFIX-00001-of-00002.safetensors, plus
                                  model.norm.weight (row 0) in PREFIX-00002-of-00002
  metrics JSON A.f32 B.f32 NAME   compare JSON's metrics for tensor NAME against
                                  numpy over the two raw f32 files
  identical JSON                  every compared pair identical, NMSE 0
"""
import hashlib
import json
import math
import sys

import numpy as np


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def hashes(path):
    import gguf
    r = gguf.GGUFReader(path)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    m1, m256 = hashlib.sha1(), hashlib.sha256()
    for t in r.tensors:
        b = bytes(data[t.data_offset:t.data_offset + t.n_bytes])
        name = path + ":" + t.name
        print("%-8s  %s  %s" % ("sha1", hashlib.sha1(b).hexdigest(), name))
        print("%-8s  %s  %s" % ("sha256", hashlib.sha256(b).hexdigest(), name))
        m1.update(b)
        m256.update(b)
    print("%-8s  %s  %s" % ("sha1", m1.hexdigest(), path))
    print("%-8s  %s  %s" % ("sha256", m256.hexdigest(), path))


def make_input_gguf(src, out):
    import gguf
    a = np.fromfile(src, dtype=np.float32).reshape(25, 4096)
    w = gguf.GGUFWriter(out, "llama")
    w.add_tensor("blk.0.weight", a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def make_hf(src, out):
    from safetensors.numpy import save_file
    a = np.fromfile(src, dtype=np.float32).reshape(25, 4096)
    save_file({"model.layers.0.weight": a}, out, metadata={"format": "pt"})


def make_hf_sharded(src, prefix):
    from safetensors.numpy import save_file
    a = np.fromfile(src, dtype=np.float32).reshape(25, 4096)
    save_file({"model.layers.0.weight": a}, prefix + "-00001-of-00002.safetensors",
              metadata={"format": "pt"})
    save_file({"model.norm.weight": a[0].copy()}, prefix + "-00002-of-00002.safetensors",
              metadata={"format": "pt"})


def close(name, got, want, rel=1e-9):
    if want is None or got is None:
        if got != want:
            fail("%s: got %r, numpy %r" % (name, got, want))
        return
    if math.isinf(want) or math.isinf(got):
        if got != want:
            fail("%s: got %r, numpy %r" % (name, got, want))
        return
    if abs(got - want) > rel * max(abs(want), 1e-300):
        fail("%s: got %.17g, numpy %.17g" % (name, got, want))


def metrics(report, fa, fb, tensor):
    rep = json.load(open(report))
    t = [x for x in rep["tensors"] if x["name_a"] == tensor]
    if len(t) != 1:
        fail("tensor %s not in the report" % tensor)
    t = t[0]
    a32 = np.fromfile(fa, dtype=np.float32)
    b32 = np.fromfile(fb, dtype=np.float32)
    a, b = a32.astype(np.float64), b32.astype(np.float64)
    d = a - b
    sse, saa, sbb, sab = float(np.sum(d * d)), float(np.sum(a * a)), float(np.sum(b * b)), float(np.sum(a * b))
    want = {
        "max_abs_diff": float(np.max(np.abs(d))),
        "rmse": math.sqrt(sse / a.size),
        "nmse": float(np.mean(d * d) / np.mean(a * a)),
        "cosine": sab / math.sqrt(saa * sbb),
        "snr_db": 10 * math.log10(saa / sse) if sse > 0 else None,
        "identical_share": float(np.mean(a32.view(np.uint32) == b32.view(np.uint32))),
    }
    if t["elements"] != a.size:
        fail("elements %d, numpy %d" % (t["elements"], a.size))
    if t["identical"] != int(np.sum(a32.view(np.uint32) == b32.view(np.uint32))):
        fail("identical count differs")
    for k, v in want.items():
        close(k, t[k], v)
    print("OK %s nmse=%.6g cosine=%.9f snr=%.3f" % (tensor, want["nmse"], want["cosine"],
                                                      want["snr_db"] or float("inf")))


def identical(report):
    rep = json.load(open(report))
    if not rep["tensors"]:
        fail("no tensors compared")
    for t in rep["tensors"]:
        if "error" in t:
            fail("%s: %s" % (t["name_a"], t["error"]))
        if t["identical_share"] != 1.0 or t["nmse"] != 0.0 or t["max_abs_diff"] != 0.0:
            fail("%s not identical: %r" % (t["name_a"], t))
        if not t["snr_db_infinite"]:
            fail("%s: SNR not infinite" % t["name_a"])
    m = rep["model"]
    if m["nmse"] != 0.0 or m["identical_share"] != 1.0:
        fail("model totals not identical")
    print("OK %d tensors identical" % len(rep["tensors"]))


def main():
    cmd = sys.argv[1]
    if cmd == "hashes":
        hashes(sys.argv[2])
    elif cmd == "make-input-gguf":
        make_input_gguf(sys.argv[2], sys.argv[3])
    elif cmd == "make-hf-safetensors":
        make_hf(sys.argv[2], sys.argv[3])
    elif cmd == "make-hf-sharded":
        make_hf_sharded(sys.argv[2], sys.argv[3])
    elif cmd == "metrics":
        metrics(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "identical":
        identical(sys.argv[2])
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    main()
