"""ggufkit.dequantize / quantize against gguf-py's numpy codecs and ggml's golden bytes.

The drop-in promise: same signature, same shapes, same bits as gguf.quants for every type
gguf-py has; ggml's own output (tests/data/golden.tar.zst) for every type ggufkit has.
"""
import json

import numpy as np
import pytest

import ggufkit

gguf = pytest.importorskip("gguf", reason="gguf-py (scripts/requirements.txt) is the reference")
from gguf import quants as gq  # noqa: E402

Q = gguf.GGMLQuantizationType


def gguf_py_can(direction: str, qtype: int) -> bool:
    """Whether gguf-py implements quantize / dequantize for qtype (it raises otherwise)."""
    if qtype not in {int(v) for v in Q}:
        return False  # a type gguf-py does not know
    if qtype in (Q.F32, Q.F16):
        return True
    cls = gq._type_traits.get(Q(qtype))
    if cls is None:
        return False
    name = "quantize_blocks" if direction == "quantize" else "dequantize_blocks"
    try:
        getattr(cls, name)(np.zeros((0, cls.block_size if direction == "quantize"
                                     else cls.type_size),
                                    np.float32 if direction == "quantize" else np.uint8))
    except NotImplementedError:
        return False
    except Exception:
        pass
    return True


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def golden_types(golden_dir):
    manifest = json.loads((golden_dir / "ggml" / "manifest.json").read_text())
    names = sorted({p.name.split(".")[0] for p in (golden_dir / "ggml").glob("*.q")})
    return manifest, names


def golden(golden_dir, name):
    d = golden_dir / "ggml"
    manifest = json.loads((d / "manifest.json").read_text())
    rows, cols = manifest["rows"], manifest["cols"]
    info = ggufkit.type_info(name)
    q = np.fromfile(d / f"{name}.q", dtype=np.uint8).reshape(rows, -1)
    deq = np.fromfile(d / f"{name}.deq.f32", dtype=np.float32).reshape(rows, cols)
    x = np.fromfile(d / "input.f32", dtype=np.float32).reshape(rows, cols)
    return info, x, q, deq


GOLDEN_NAMES = ["bf16", "f16", "iq4_nl", "iq4_xs", "mxfp4", "nvfp4", "q1_0", "q2_0", "q2_K",
                "q3_K", "q4_0", "q4_1", "q4_K", "q5_0", "q5_1", "q5_K", "q6_K", "q8_0", "tq1_0",
                "tq2_0"]


def test_golden_names_cover_the_archive(golden_dir):
    _, names = golden_types(golden_dir)
    assert sorted(names) == sorted(GOLDEN_NAMES)


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_dequantize_golden_is_ggml(golden_dir, name):
    info, x, q, deq = golden(golden_dir, name)
    got = ggufkit.dequantize(q, info.id)
    assert same_bits(got, deq)
    if gguf_py_can("dequantize", info.id):
        assert same_bits(gq.dequantize(q, Q(info.id)), got)


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_quantize_golden_is_ggml(golden_dir, name):
    info, x, q, deq = golden(golden_dir, name)
    if info.id == Q.F16:
        pytest.skip("f16: quantize returns data.astype(float16) as gguf-py does")
    if not info.can_quantize:
        pytest.skip(f"no ggufkit quantizer for {name} on this branch")
    got = ggufkit.quantize(x, info.id)
    assert same_bits(got, q)
    if gguf_py_can("quantize", info.id):
        assert same_bits(gq.quantize(x, Q(info.id)), got)


def random_blocks(rng, info, n_blocks):
    """Random bytes: every bit pattern, including NaN / Inf / subnormal scales."""
    return rng.integers(0, 256, size=(n_blocks, info.type_size), dtype=np.uint8)


def equal_with_nan(a, b):
    """Bit-equal, except that NaN payloads may differ (numpy vs C propagate them differently)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    na, nb = np.isnan(a), np.isnan(b)
    return np.array_equal(na, nb) and a[~na].tobytes() == b[~nb].tobytes()


BOTH_DEQUANT = [t for t in ggufkit.types()
                if t.can_dequantize and t.id in {int(v) for v in Q} and t.id != Q.F32
                and gguf_py_can("dequantize", t.id)]


@pytest.mark.parametrize("info", BOTH_DEQUANT, ids=lambda t: t.name)
def test_dequantize_random_blocks_like_gguf_py(info):
    rng = np.random.default_rng(info.id)
    blocks = random_blocks(rng, info, 64 * max(1, 256 // info.block_size))
    data = blocks.reshape(4, -1)  # 4 rows
    with np.errstate(all="ignore"):
        want = gq.dequantize(data, Q(info.id))
    got = ggufkit.dequantize(data, info.id)
    assert got.shape == want.shape
    assert equal_with_nan(got, want)


BOTH_QUANT = [t for t in ggufkit.types()
              if t.can_quantize and t.id in {int(v) for v in Q} and gguf_py_can("quantize", t.id)]


@pytest.mark.parametrize("info", BOTH_QUANT, ids=lambda t: t.name)
def test_quantize_random_like_gguf_py(info):
    rng = np.random.default_rng(100 + info.id)
    n = 2 * max(256, info.block_size)
    x = (rng.standard_normal((3, 2, n)) * rng.choice([1e-3, 1.0, 50.0], size=(3, 2, 1)))
    x = x.astype(np.float32)
    x[0, 0, :7] = 0.0
    with np.errstate(all="ignore"):
        want = gq.quantize(x, Q(info.id))
    got = ggufkit.quantize(x, info.id)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert got.tobytes() == want.tobytes()


def test_qtype_forms_and_shapes():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 64)).astype(np.float32)
    a = ggufkit.quantize(x, Q.Q8_0)
    assert a.shape == (2, 3, 68) and a.dtype == np.uint8
    assert same_bits(ggufkit.quantize(x, "Q8_0"), a)
    assert same_bits(ggufkit.quantize(x, "q8_0"), a)
    assert same_bits(ggufkit.quantize(x, 8), a)
    y = ggufkit.dequantize(a, "Q8_0")
    assert y.shape == (2, 3, 64) and y.dtype == np.float32
    # F32 / F16 behave as gguf-py: views and astype.
    assert ggufkit.dequantize(x.view(np.uint8), Q.F32).shape == x.shape
    h = ggufkit.quantize(x, Q.F16)
    assert h.dtype == np.float16
    assert same_bits(ggufkit.dequantize(h, Q.F16), gq.dequantize(h, Q.F16))
    assert same_bits(ggufkit.dequantize(h.view(np.uint8), Q.F16), h.astype(np.float32))


def test_threads_do_not_change_bits():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 4096)).astype(np.float32)
    q1 = ggufkit.quantize(x, "Q4_K", threads=1)
    q4 = ggufkit.quantize(x, "Q4_K", threads=4)
    assert same_bits(q1, q4)
    assert same_bits(ggufkit.dequantize(q1, "Q4_K", threads=1),
                     ggufkit.dequantize(q1, "Q4_K", threads=3))


def test_imatrix_changes_what_the_quantizer_weighs():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 256)).astype(np.float32)
    w = np.linspace(0.1, 10, 256, dtype=np.float32)
    a = ggufkit.quantize(x, "Q4_K", imatrix=w)
    assert a.shape == (4, 144)
    with pytest.raises(ggufkit.GGUFError, match="imatrix"):
        ggufkit.quantize(x, "Q4_K", imatrix=w[:10])


@pytest.mark.parametrize("call", [
    lambda: ggufkit.dequantize(np.zeros(33, np.uint8), "Q8_0"),
    lambda: ggufkit.quantize(np.zeros(31, np.float32), "Q8_0"),
    lambda: ggufkit.dequantize(np.zeros(34, np.uint8), "no_such_type"),
    lambda: ggufkit.dequantize(np.zeros(34, np.uint8), 4),
    lambda: ggufkit.dequantize(np.zeros(4, np.uint8), "i32"),
    lambda: ggufkit.quantize(np.zeros(32, np.float32), "Q8_0", threads=0),
    lambda: ggufkit.dequantize(np.zeros(34, np.uint8), object()),
])
def test_bad_arguments_raise_gguf_error(call):
    with pytest.raises(ggufkit.GGUFError) as e:
        call()
    assert isinstance(e.value, ValueError)
    assert str(e.value)


@pytest.mark.parametrize("info", [t for t in ggufkit.types() if t.can_quantize and t.id not in (0, 1)],
                         ids=lambda t: t.name)
def test_every_quantizer_round_trips(info):
    # Every type ggufkit can quantize (gguf-py lacks most): shapes, a finite round trip, and
    # the imatrix-only types refuse cleanly without one.
    rng = np.random.default_rng(200 + info.id)
    n = max(256, info.block_size)
    x = rng.standard_normal((3, n)).astype(np.float32)
    w = np.ones(n, np.float32)
    try:
        q = ggufkit.quantize(x, info.id)
    except ggufkit.GGUFError as e:
        assert "importance matrix" in str(e)
        q = ggufkit.quantize(x, info.id, imatrix=w)
    assert q.shape == (3, n // info.block_size * info.type_size) and q.dtype == np.uint8
    y = ggufkit.dequantize(q, info.id)
    assert y.shape == x.shape and np.isfinite(y).all()
    assert np.abs(y - x).mean() < 1.0
