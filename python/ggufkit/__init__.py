"""ggufkit: bit-exact ggml (de)quantization and streaming GGUF access from Python.

Drop-in for gguf-py's numpy codecs (same signatures, shapes and bits)::

    from ggufkit import dequantize, quantize      # instead of gguf.quants
    w = dequantize(reader.tensors[0].data, reader.tensors[0].tensor_type)

Files (a GGUF, any shard of a split model, or a .gguf.zst)::

    with ggufkit.GGUFFile("model-Q4_K_M.gguf") as f:
        f.metadata["general.architecture"]
        buf = np.empty(f.tensor("output.weight").shape, np.float32)
        f.read("output.weight", out=buf)              # no copy, no temporary
        f.raw("output.weight")                        # the stored bytes, mmap view

Every piece of work runs in C++ without the GIL (``threads=None``: all cores).
Errors raise :class:`GGUFError` (a ValueError) with the message the command-line
tools print (file, tensor, offset, problem).
"""
from __future__ import annotations

import json
import mmap
import os
from typing import Any, Callable, Iterator, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._core import GGUFError

__version__: str = _core.__version__

__all__ = [
    "GGUFError",
    "GGUFFile",
    "TensorInfo",
    "DequantProgress",
    "QuantizeProgress",
    "TypeInfo",
    "dequantize",
    "quantize",
    "dequantize_file",
    "quantize_file",
    "kv_plan",
    "types",
    "type_info",
]

GGUFError.__module__ = "ggufkit"
GGUFError.__doc__ = (
    "A ggufkit error: bad input (malformed file, wrong sizes, unknown type) or a failed read. "
    "A ValueError; the message names the file, tensor and offset like the CLI tools do.")


class TypeInfo(NamedTuple):
    """One ggml type: its id, ggml's name, elements and bytes per block, and the codecs ggufkit has."""
    id: int
    name: str
    block_size: int
    type_size: int
    kind: str  # "float", "integer" or "quantized"
    can_dequantize: bool
    can_quantize: bool


_TYPES = {t[0]: TypeInfo(*t) for t in _core.all_types()}


def types() -> list[TypeInfo]:
    """Every ggml type ggufkit knows, in id order."""
    return [_TYPES[k] for k in sorted(_TYPES)]


QType = Union[int, str, Any]  # gguf.GGMLQuantizationType (an IntEnum), an id, or a name


def type_info(qtype: QType) -> TypeInfo:
    """The :class:`TypeInfo` of ``qtype``: gguf-py's GGMLQuantizationType, an int id or a name
    ("Q4_K", "q4_k", "bf16"). Raises GGUFError for unknown types."""
    if isinstance(qtype, str):
        tid = _core.parse_type(qtype)
    else:
        try:
            tid = int(qtype)
        except (TypeError, ValueError):
            raise GGUFError(f"{qtype!r} is not a ggml type (an id, a name or a "
                            f"GGMLQuantizationType)") from None
    info = _TYPES.get(tid)
    if info is None:
        raise GGUFError(f"{tid} is not a ggml type id")
    return info


_F32, _F16, _BF16 = 0, 1, 30
_OUT_TYPES = {"float32": 0, "f32": 0, "fp32": 0, "float16": 1, "f16": 1, "fp16": 1,
              "bfloat16": 2, "bf16": 2}


def _threads(threads: Optional[int]) -> int:
    if threads is None:
        return 0
    if int(threads) < 1:
        raise GGUFError(f"threads must be >= 1 (or None for all cores), got {threads}")
    return int(threads)


def _bf16_dtype() -> np.dtype:
    """ml_dtypes.bfloat16 when that package is installed, else uint16 (the raw bits)."""
    try:
        import ml_dtypes  # type: ignore[import-not-found]
        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:
        return np.dtype(np.uint16)


def _out_type(dtype: Any) -> Tuple[int, np.dtype]:
    """("float32" | "float16" | "bfloat16" or a numpy dtype) -> (core id, numpy dtype)."""
    if isinstance(dtype, str):
        key = dtype.lower()
    else:
        d = np.dtype(dtype)
        key = {np.dtype(np.float32): "float32", np.dtype(np.float16): "float16"}.get(d, d.name)
    code = _OUT_TYPES.get(key)
    if code is None:
        raise GGUFError(f"dtype {dtype!r} is not float32, float16 or bfloat16")
    if code == 0:
        return 0, np.dtype(np.float32)
    if code == 1:
        return 1, np.dtype(np.float16)
    return 2, _bf16_dtype()


def _as_bytes(data: Any) -> np.ndarray:
    arr = np.ascontiguousarray(data)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return arr.view(np.uint8)


def dequantize(data: np.ndarray, qtype: QType, *, threads: Optional[int] = None) -> np.ndarray:
    """Dequantizes ggml blocks to float32: gguf-py's ``gguf.quants.dequantize``, bit for bit.

    ``data``: the stored bytes with rows in the last axis (uint8 ``(..., row_bytes)``, as
    GGUFReader gives them; other dtypes are viewed as bytes). Returns float32 ``(..., n)``.
    Every type ggufkit has a dequantizer for (gguf-py lacks some). F32 returns a view.
    ``threads``: worker threads (None: all cores); the GIL is released.
    """
    info = type_info(qtype)
    if info.id == _F32:
        return np.asarray(data).view(np.float32)
    if not info.can_dequantize:
        raise GGUFError(f"no dequantizer for {info.name}")
    raw = _as_bytes(data)
    if raw.shape[-1] % info.type_size != 0:
        raise GGUFError(f"Quantized tensor bytes per row ({raw.shape[-1]}) is not a multiple of "
                        f"{info.name} type size ({info.type_size})")
    shape = (*raw.shape[:-1], raw.shape[-1] // info.type_size * info.block_size)
    out = np.empty(shape, dtype=np.float32)
    _core.dequantize_into(info.id, raw, out, 0, _threads(threads))
    return out


def quantize(data: np.ndarray, qtype: QType, *, imatrix: Optional[np.ndarray] = None,
             threads: Optional[int] = None) -> np.ndarray:
    """Quantizes float rows: gguf-py's ``gguf.quants.quantize``, bit for bit (ggml's quantizers).

    ``data``: floats with rows in the last axis ``(..., n)`` (n a whole number of blocks).
    Returns uint8 ``(..., row_bytes)``; F32 / F16 return ``data.astype`` like gguf-py.
    Every type ggufkit has a quantizer for, K- and IQ-quants included. ``imatrix``: optional
    per-column importance weights (n floats), as llama-quantize's --imatrix.
    """
    info = type_info(qtype)
    if info.id == _F32:
        return np.asarray(data).astype(np.float32, copy=False)
    if info.id == _F16:
        return np.asarray(data).astype(np.float16, copy=False)
    if not info.can_quantize:
        raise GGUFError(f"no quantizer for {info.name}")
    x = np.ascontiguousarray(data, dtype=np.float32)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.shape[-1] % info.block_size != 0:
        raise GGUFError(f"Can't quantize tensor with shape {x.shape} to {info.name.upper()}: "
                        f"rows of {x.shape[-1]} are not a multiple of the block size "
                        f"({info.block_size})")
    out = np.empty((*x.shape[:-1], x.shape[-1] // info.block_size * info.type_size), np.uint8)
    if x.size == 0:
        return out
    im = None if imatrix is None else np.ascontiguousarray(imatrix, dtype=np.float32)
    _core.quantize_into(info.id, x, x.shape[-1], out, im, _threads(threads))
    return out


class TensorInfo(NamedTuple):
    """A tensor of a GGUF file.

    ``shape`` is numpy order (rows first: ``ne`` reversed), the shape :meth:`GGUFFile.read`
    returns; ``ne`` is ggml's order (``ne[0]`` = row length). ``offset`` is relative to the
    data section of its shard, ``file_offset`` absolute in that shard file.
    """
    name: str
    type: int
    type_name: str
    shape: Tuple[int, ...]
    ne: Tuple[int, ...]
    n_elements: int
    nbytes: int
    offset: int
    file_offset: int
    shard: int
    row_bytes: int

    @property
    def n_rows(self) -> int:
        return self.n_elements // self.ne[0] if self.ne and self.ne[0] else 0


_ARRAY_DTYPES = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.uint32, 5: np.int32,
                 6: np.float32, 7: np.bool_, 10: np.uint64, 11: np.int64, 12: np.float64}
_VALUE_TYPE_NAMES = {0: "u8", 1: "i8", 2: "u16", 3: "i16", 4: "u32", 5: "i32", 6: "f32",
                     7: "bool", 8: "str", 9: "arr", 10: "u64", 11: "i64", 12: "f64"}


def _decode(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


class GGUFFile:
    """A GGUF model: a file, any shard of a split model (all shards as one model), or a
    ``.gguf.zst`` (read front to back: read its tensors in file order).

    Only the header is parsed at open (hardened: malformed files raise GGUFError, never
    crash); tensor data is read on demand, chunk by chunk, straight into the output.
    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        self.path = os.fspath(path)
        self._model = _core.Model(self.path)
        self._tensors = [
            TensorInfo(name, t, _TYPES[t].name if t in _TYPES else str(t), tuple(reversed(ne)),
                       tuple(ne), n, nbytes, off, foff, shard, row_bytes)
            for (name, t, ne, n, nbytes, off, foff, shard, row_bytes) in self._model.tensors()]
        self._by_name = {t.name: t for t in self._tensors}
        self._index = {t.name: i for i, t in enumerate(self._tensors)}
        self._metadata: Optional[dict[str, Any]] = None
        self._metadata_types: Optional[dict[str, str]] = None
        self._maps: dict[int, mmap.mmap] = {}

    # -- context manager ---------------------------------------------------------------
    def __enter__(self) -> "GGUFFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the files. Arrays returned by :meth:`raw` stay valid (they hold the map)."""
        self._model.close()
        self._maps.clear()

    # -- header ------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self._model.version

    @property
    def alignment(self) -> int:
        return self._model.alignment

    @property
    def shard_paths(self) -> list[str]:
        """The shard files (one entry for a single file)."""
        return self._model.shard_paths()

    def _load_metadata(self) -> None:
        md: dict[str, Any] = {}
        types: dict[str, str] = {}
        for key, type_name, elem, value in self._model.metadata():
            if type_name == "arr":
                types[key] = f"arr[{_VALUE_TYPE_NAMES.get(elem, '?')}]"
                if elem == 8:
                    md[key] = [_decode(v) for v in value]
                else:
                    md[key] = np.frombuffer(value, dtype=_ARRAY_DTYPES[elem])
            else:
                types[key] = type_name
                md[key] = _decode(value) if type_name == "str" else value
        self._metadata, self._metadata_types = md, types

    @property
    def metadata(self) -> dict[str, Any]:
        """Metadata in file order: ints, floats, bools, str; string arrays as ``list[str]``,
        numeric arrays as (read-only) numpy arrays of their exact type."""
        if self._metadata is None:
            self._load_metadata()
        assert self._metadata is not None
        return self._metadata

    @property
    def metadata_types(self) -> dict[str, str]:
        """The GGUF type of each metadata value: "u32", "str", "arr[i32]", ..."""
        if self._metadata_types is None:
            self._load_metadata()
        assert self._metadata_types is not None
        return self._metadata_types

    # -- tensors -----------------------------------------------------------------------
    @property
    def tensors(self) -> list[TensorInfo]:
        """Every tensor, shard by shard, in tensor-info order."""
        return list(self._tensors)

    def tensor(self, name: str) -> TensorInfo:
        """The tensor called ``name`` (GGUFError if absent)."""
        t = self._by_name.get(name)
        if t is None:
            raise GGUFError(f"{self.path}: no tensor named '{name}'")
        return t

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[TensorInfo]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def read(self, name: str, dtype: Any = "float32", out: Any = None,
             rows: Union[None, Tuple[int, int], slice, range] = None,
             threads: Optional[int] = None) -> Any:
        """Dequantizes a tensor (bit-exact with ggml) into a new array or into ``out``.

        ``dtype``: "float32", "float16" or "bfloat16" (bfloat16 arrays are
        ``ml_dtypes.bfloat16`` when that package is installed, else uint16 bits).
        ``out``: any writable C-contiguous buffer of exactly the output's size in bytes (a
        numpy array, a torch tensor's ``.numpy()``, a bytearray, an mmap); written in place,
        no copy, and returned. ``rows``: ``(begin, end)`` or a slice of rows (a row is
        ``ne[0]`` elements; rows of all outer dimensions counted together): the result is
        ``(end - begin, ne[0])``. ``threads``: None for all cores; the GIL is released.
        """
        t = self.tensor(name)
        code, np_dtype = _out_type(dtype)
        if rows is None:
            begin, end, shape = 0, t.n_rows, t.shape
        else:
            if isinstance(rows, (slice, range)):
                if rows.step not in (None, 1):
                    raise GGUFError("rows must be contiguous (step 1)")
                begin, end, _ = slice(rows.start, rows.stop).indices(t.n_rows)
            else:
                begin, end = (int(v) for v in rows)
            shape = (max(0, end - begin), t.ne[0])
        if out is None:
            out = np.empty(shape, dtype=np_dtype)
        self._model.read_rows(self._index[name], code, out, begin, end, _threads(threads))
        return out

    def raw(self, name: str) -> np.ndarray:
        """The stored bytes of a tensor as a read-only uint8 array ``(..., row_bytes)`` viewing
        a memory map of the file (no copy; pages load when touched). Plain files only:
        a compressed (.gguf.zst) model has no bytes to map. Pass it to :func:`dequantize`."""
        t = self.tensor(name)
        if self._model.forward_only:
            raise GGUFError(f"{self.path}: tensor '{name}': a compressed file cannot be mapped; "
                            f"use read() or decompress it first")
        mm = self._maps.get(t.shard)
        if mm is None:
            with open(self.shard_paths[t.shard], "rb") as fh:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            self._maps[t.shard] = mm
        arr = np.frombuffer(mm, dtype=np.uint8, count=t.nbytes, offset=t.file_offset)
        if t.row_bytes and t.nbytes:
            arr = arr.reshape((*t.shape[:-1], t.row_bytes))
        return arr

    def __repr__(self) -> str:
        return f"GGUFFile({self.path!r}, {len(self._tensors)} tensors)"


class DequantProgress(NamedTuple):
    """What :func:`dequantize_file` reports after each piece of work."""
    tensor_index: int
    tensor_count: int
    tensor_name: str
    bytes_done: int
    bytes_total: int


def dequantize_file(input: Union[str, os.PathLike], output: Union[str, os.PathLike], *,
                    dtype: str = "float32", format: str = "gguf", tensors: str = "",
                    threads: Optional[int] = None, zstd_level: Optional[int] = None,
                    progress: Optional[Callable[[DequantProgress], Any]] = None) -> dict:
    """What ``gguf-dequant`` does: a dense copy of a model (GGUF or safetensors), streamed with
    bounded memory; bytes identical to the CLI's. ``tensors``: a regular expression selecting
    tensors (searched in each name; empty: all). ``zstd_level``: write a .zst. ``progress``
    is called with a :class:`DequantProgress` (from a worker thread, holding the GIL); an
    exception it raises is re-raised when the conversion ends. Returns the run's statistics.
    """
    code, _ = _out_type(dtype)
    cb = None
    if progress is not None:
        def cb(i: int, n: int, name: str, done: int, total: int) -> None:
            progress(DequantProgress(i, n, name, done, total))
    return _core.dequantize_file(os.fspath(input), os.fspath(output), code, format, tensors,
                                 _threads(threads), zstd_level, cb)


class QuantizeProgress(NamedTuple):
    """What :func:`quantize_file` reports after each piece of work."""
    tensor_index: int
    tensor_count: int
    tensor_name: str
    bytes_done: int
    bytes_total: int


def quantize_file(input: Union[str, os.PathLike], output: Union[str, os.PathLike],
                  ftype: str = "Q4_K_M", *, imatrix: Union[None, str, os.PathLike] = None,
                  threads: Optional[int] = None, allow_requantize: bool = False,
                  leave_output_tensor: bool = False, pure: bool = False,
                  progress: Optional[Callable[[QuantizeProgress], Any]] = None) -> dict:
    """What ``gguf-quantize`` does (llama-quantize's job, byte-identical output): ``ftype`` is
    llama-quantize's name ("Q4_K_M", "Q8_0", ...), ``imatrix`` an importance-matrix file.

    Available when the gguf-quantize library (``quantize/``, target ggufkit::quantize) is part
    of the build: python/CMakeLists.txt then defines GGUFKIT_PY_HAVE_QUANTIZE and
    python/src/ggufkit_ext.cc exports ``_core.quantize_file``. Otherwise this raises
    NotImplementedError.
    """
    fn = getattr(_core, "quantize_file", None)
    if fn is None:
        raise NotImplementedError("ggufkit was built without the gguf-quantize library "
                                  "(quantize/); quantize_file is not available in this build")
    cb = None
    if progress is not None:
        def cb(i: int, n: int, name: str, done: int, total: int) -> None:
            progress(QuantizeProgress(i, n, name, done, total))
    return fn(os.fspath(input), os.fspath(output), ftype,
              "" if imatrix is None else os.fspath(imatrix), _threads(threads),
              bool(allow_requantize), bool(leave_output_tensor), bool(pure), cb)


def _list_arg(value: Union[str, Sequence[Any]]) -> str:
    if isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)


def kv_plan(model: Union[None, str, os.PathLike] = None, *,
            contexts: Union[str, Sequence[int]] = (2048, 8192, 32768, 65536),
            k_types: Union[str, Sequence[str]] = ("f16",),
            v_types: Union[str, Sequence[str]] = ("f16",),
            turbo_variant: str = "current", budget: Union[None, int, str] = None,
            weights_bytes: Union[None, int, str] = None, measure: bool = False,
            layers: Optional[int] = None, kv_heads: Optional[int] = None,
            head_dim: Optional[int] = None, head_dim_v: Optional[int] = None,
            progress: Optional[Callable[[int, int], Any]] = None) -> dict:
    """What ``gguf-kvplan --json`` prints, as a dict: the K / V cache bytes per context and
    cache type for ``model`` (a GGUF file / shard / .zst) or for ``layers`` uniform layers of
    ``kv_heads`` x ``head_dim``; with ``budget`` (bytes or "4GiB") which contexts fit and the
    largest that does; with ``measure`` the resident memory of a real cache. Types: f16 bf16
    q8_0 q4_0 turbo2 turbo3 turbo4. ``progress(done, total)`` is called per measured row.
    """
    if model is None:
        if layers is None or kv_heads is None or head_dim is None:
            raise GGUFError("kv_plan: give a model file, or layers, kv_heads and head_dim")
    elif layers is not None or kv_heads is not None or head_dim is not None:
        raise GGUFError("kv_plan: give a model file or layers/kv_heads/head_dim, not both")
    text = _core.kv_plan("" if model is None else os.fspath(model), int(layers or 0),
                         int(kv_heads or 0), int(head_dim or 0),
                         int(head_dim_v if head_dim_v is not None else (head_dim or 0)),
                         _list_arg(contexts), _list_arg(k_types), _list_arg(v_types),
                         turbo_variant, "" if budget is None else str(budget),
                         "" if weights_bytes is None else str(weights_bytes), bool(measure),
                         progress)
    return json.loads(text)
