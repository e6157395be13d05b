"""ggufkit.GGUFFile against gguf-py's GGUFReader on the golden files, and its I/O paths:
read into new arrays / caller buffers / row ranges, raw mmap views, split and .zst models,
dequantize_file, kv_plan."""
import shutil
import subprocess
import threading

import numpy as np
import pytest

import ggufkit

gguf = pytest.importorskip("gguf", reason="gguf-py (scripts/requirements.txt) is the reference")
from gguf import quants as gq  # noqa: E402


def golden_files(golden_dir):
    return sorted((golden_dir / "real").glob("*.gguf")) + sorted((golden_dir / "ggml").glob("*.gguf"))


KNOWN_TO_GGUF_PY = {int(v) for v in gguf.GGMLQuantizationType}


def gguf_reader(path):
    """GGUFReader, or None for files holding a type gguf-py does not know (q2_0)."""
    try:
        return gguf.GGUFReader(path)
    except ValueError as e:
        if "is not a valid GGMLQuantizationType" in str(e):
            return None
        raise


def reader_value(field):
    """GGUFReader's value of a field as plain Python (lists for arrays)."""
    v = field.contents()
    return v


def assert_same_value(ours, theirs, key):
    if isinstance(ours, np.ndarray):
        assert np.array_equal(ours, np.asarray(theirs, dtype=ours.dtype)), key
        assert len(ours) == len(theirs), key
    elif isinstance(ours, float):
        assert np.float64(ours) == np.float64(theirs), key
    else:
        assert ours == theirs, key
        assert type(ours) is type(theirs) or isinstance(theirs, type(ours)), key


def test_metadata_equals_gguf_reader(golden_dir):
    files = golden_files(golden_dir)
    assert len(files) >= 6 + 20
    compared = 0
    for path in files:
        reader = gguf_reader(path)
        if reader is None:
            continue
        compared += 1
        with ggufkit.GGUFFile(path) as f:
            md = f.metadata
            theirs = {k: v for k, v in reader.fields.items() if not k.startswith("GGUF.")}
            assert list(md) == list(theirs), path
            for key, field in theirs.items():
                assert_same_value(md[key], reader_value(field), f"{path.name}: {key}")
            assert f.version == reader.fields["GGUF.version"].contents()
    assert compared >= len(files) - 2


def test_tensors_equal_gguf_reader(golden_dir):
    for path in sorted((golden_dir / "ggml").glob("*.gguf")):
        reader = gguf_reader(path)
        if reader is None:
            continue
        with ggufkit.GGUFFile(path) as f:
            assert [t.name for t in f.tensors] == [t.name for t in reader.tensors]
            for ours, theirs in zip(f.tensors, reader.tensors):
                assert ours.type == int(theirs.tensor_type)
                assert list(ours.ne) == [int(v) for v in theirs.shape]
                assert ours.nbytes == int(theirs.n_bytes)
                assert ours.n_elements == int(theirs.n_elements)
                assert ours.file_offset == int(theirs.data_offset)
                raw = f.raw(ours.name)
                assert not raw.flags.writeable
                assert raw.tobytes() == np.ascontiguousarray(theirs.data).tobytes()
                got = f.read(ours.name)
                assert got.shape == ours.shape
                assert got.tobytes() == ggufkit.dequantize(raw, ours.type).reshape(ours.shape).tobytes()
                try:
                    want = gq.dequantize(theirs.data, theirs.tensor_type)
                except NotImplementedError:
                    continue  # a type gguf-py cannot dequantize
                assert got.tobytes() == np.asarray(want, np.float32).tobytes()


def test_read_dtypes_out_and_rows(sample_path):
    with ggufkit.GGUFFile(sample_path) as f:
        t = f.tensor("blk.0.weight_3d")
        assert t.shape == (5, 5, 4096) and t.ne == (4096, 5, 5) and t.n_rows == 25
        full = f.read(t.name)
        # f16 / bf16: the f32 value rounded to nearest even.
        assert f.read(t.name, "float16").tobytes() == full.astype(np.float16).tobytes()
        bits = full.view(np.uint32).astype(np.uint64)
        bf16 = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
        assert f.read(t.name, "bfloat16").view(np.uint16).tobytes() == bf16.tobytes()
        # into a caller buffer: no new array, written in place, returned as is
        out = np.full(t.shape, np.nan, np.float32)
        assert f.read(t.name, out=out) is out
        assert out.tobytes() == full.tobytes()
        ba = bytearray(full.nbytes)
        f.read(t.name, out=ba, threads=2)
        assert bytes(ba) == full.tobytes()
        # row ranges
        rows = f.read(t.name, rows=(3, 11))
        assert rows.shape == (8, 4096)
        assert rows.tobytes() == full.reshape(25, 4096)[3:11].tobytes()
        assert f.read(t.name, rows=slice(20, None)).shape == (5, 4096)
        # errors: wrong size, read-only out, bad dtype / rows / name
        for bad in [lambda: f.read(t.name, out=np.empty(10, np.float32)),
                    lambda: f.read(t.name, out=b"\0" * full.nbytes),
                    lambda: f.read(t.name, out=np.empty((25, 4096), np.float32)[:, ::2]),
                    lambda: f.read(t.name, dtype="int8"),
                    lambda: f.read(t.name, rows=(5, 99)),
                    lambda: f.read(t.name, rows=(-1, 2)),
                    lambda: f.read("missing")]:
            with pytest.raises(ggufkit.GGUFError):
                bad()
    with pytest.raises(ggufkit.GGUFError, match="closed"):
        f.read("blk.0.weight")


def test_bfloat16_is_ml_dtypes_when_installed(sample_path):
    with ggufkit.GGUFFile(sample_path) as f:
        a = f.read("tiny", "bfloat16")
    try:
        import ml_dtypes  # noqa: F401
        assert a.dtype.name == "bfloat16"
    except ImportError:
        assert a.dtype == np.uint16


def test_compressed_model(sample_path, tmp_path):
    if shutil.which("zstd") is None:
        pytest.skip("the zstd tool (scripts/setup.sh installs it) makes the .gguf.zst")
    zst = tmp_path / "sample.gguf.zst"
    subprocess.run(["zstd", "-q", "-o", str(zst), str(sample_path)], check=True)
    with ggufkit.GGUFFile(sample_path) as plain, ggufkit.GGUFFile(zst) as f:
        assert f.metadata.keys() == plain.metadata.keys()
        for t in f.tensors:  # in file order
            assert f.read(t.name).tobytes() == plain.read(t.name).tobytes()
        with pytest.raises(ggufkit.GGUFError, match="compressed"):
            f.raw("tiny")


def test_split_model(tmp_path):
    rng = np.random.default_rng(1)
    weights = {f"w{i}": rng.standard_normal((8, 64)).astype(np.float32) for i in range(3)}
    writer = gguf.GGUFWriter(tmp_path / "m.gguf", "llama", split_max_tensors=1)
    writer.add_uint32("custom.answer", 42)
    for name, w in weights.items():
        writer.add_tensor(name, gq.quantize(w, gguf.GGMLQuantizationType.Q8_0),
                          raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    shards = sorted(tmp_path.glob("m-*-of-*.gguf"))
    assert len(shards) == 3
    with ggufkit.GGUFFile(shards[1]) as f:  # any shard opens the whole model
        assert [t.name for t in f.tensors] == list(weights)
        assert len(f.shard_paths) == 3
        assert f.metadata["custom.answer"] == 42
        for name, w in weights.items():
            q = gq.quantize(w, gguf.GGMLQuantizationType.Q8_0)
            assert f.read(name).tobytes() == gq.dequantize(q, gguf.GGMLQuantizationType.Q8_0).tobytes()
            assert f.raw(name).tobytes() == q.tobytes()
    shards[2].unlink()
    with pytest.raises(ggufkit.GGUFError, match="missing"):
        ggufkit.GGUFFile(shards[0])


def test_reads_run_without_the_gil(sample_path):
    # Several Python threads reading at once: results identical to a serial read.
    with ggufkit.GGUFFile(sample_path) as f:
        want = f.read("blk.0.weight")
        results = [None] * 4

        def work(i):
            results[i] = f.read("blk.0.weight", threads=1)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.tobytes() == want.tobytes() for r in results)


def test_dequantize_file(sample_path, tmp_path):
    out = tmp_path / "f32.gguf"
    seen = []
    stats = ggufkit.dequantize_file(sample_path, out, progress=seen.append, threads=1)
    assert stats["tensors_written"] == 3
    assert seen and seen[-1].bytes_done == seen[-1].bytes_total
    with ggufkit.GGUFFile(sample_path) as src, ggufkit.GGUFFile(out) as dst:
        for t in src.tensors:
            assert dst.tensor(t.name).type == 0
            assert dst.read(t.name).tobytes() == src.read(t.name).tobytes()

    def boom(p):
        raise KeyError("stop")

    with pytest.raises(KeyError):
        ggufkit.dequantize_file(sample_path, tmp_path / "again.gguf", progress=boom)
    with pytest.raises(ggufkit.GGUFError, match="no_such"):
        ggufkit.dequantize_file(tmp_path / "no_such.gguf", tmp_path / "x.gguf")


def test_kv_plan(sample_path):
    calls = []
    plan = ggufkit.kv_plan(layers=22, kv_heads=4, head_dim=64, contexts=[2048, "8K"],
                           k_types="f16,q8_0", v_types=["turbo4"], budget="1GiB",
                           progress=lambda d, n: calls.append((d, n)))
    assert [r["ctx"] for r in plan["rows"]] == [2048, 2048, 8192, 8192]
    row = plan["rows"][0]
    assert row["k_bytes"] == 22 * 2048 * 4 * 64 * 2
    assert calls == [(4, 4)]
    assert plan["largest_fit"]
    with pytest.raises(ggufkit.GGUFError):
        ggufkit.kv_plan(layers=22, kv_heads=4, head_dim=64, k_types="q9")
    with pytest.raises(ggufkit.GGUFError):
        ggufkit.kv_plan(sample_path)  # the sample has no attention metadata


def test_quantize_file_is_a_clear_hook(sample_path, tmp_path):
    if hasattr(ggufkit._core, "quantize_file"):
        pytest.skip("this build has the gguf-quantize library")
    with pytest.raises(NotImplementedError, match="gguf-quantize"):
        ggufkit.quantize_file(sample_path, tmp_path / "q.gguf", "Q4_K_M")


def test_close_while_other_threads_read(sample_path):
    f = ggufkit.GGUFFile(sample_path)
    errors, done = [], []

    def work():
        for _ in range(50):
            try:
                f.read("blk.0.weight", threads=1)
            except ggufkit.GGUFError as e:  # closed under us: a clean error, never a crash
                errors.append(str(e))
                return
        done.append(1)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    f.close()
    for t in threads:
        t.join()
    assert all("closed" in e for e in errors)
    assert len(errors) + len(done) == 3


def test_quantize_file_matches_quantize(tmp_path):
    """quantize_file (gguf-quantize's library) writes, for every tensor it quantizes, the
    bytes ggufkit.quantize gives for the same floats; progress and errors as dequantize_file."""
    import gguf
    f32 = tmp_path / "f32.gguf"
    w = gguf.GGUFWriter(str(f32), "llama")
    w.add_block_count(1)
    rng = np.random.default_rng(3)
    for name, shape in (("token_embd.weight", (8, 256)), ("blk.0.attn_q.weight", (4, 256)),
                        ("blk.0.ffn_down.weight", (256, 64)), ("output_norm.weight", (256,))):
        w.add_tensor(name, rng.standard_normal(shape).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out = tmp_path / "q8.gguf"
    seen = []
    stats = ggufkit.quantize_file(f32, out, "Q8_0", threads=2, progress=seen.append)
    assert stats["tensors_written"] == 4
    assert seen and seen[-1].bytes_done == seen[-1].bytes_total
    quantized = 0
    with ggufkit.GGUFFile(f32) as src, ggufkit.GGUFFile(out) as dst:
        for t in dst.tensors:
            if t.type != 8:  # q8_0
                continue
            quantized += 1
            want = ggufkit.quantize(src.read(t.name), "Q8_0")
            assert bytes(dst.raw(t.name)) == want.tobytes(), t.name
    assert quantized == 3
    with pytest.raises(ggufkit.GGUFError, match="no_such"):
        ggufkit.quantize_file(tmp_path / "no_such.gguf", tmp_path / "x.gguf", "Q8_0")
    assert not (tmp_path / "x.gguf").exists()
