"""Type stubs of ggufkit._core, the nanobind extension under the ggufkit package.
Use the package's functions (ggufkit.dequantize, ggufkit.GGUFFile, ...), not these."""
from typing import Any, Callable, Optional

# Anything with the buffer protocol (numpy arrays, bytes, bytearray, memoryview, mmap).
Buffer = Any

__version__: str


class GGUFError(ValueError):
    """A ggufkit error; the message names the file, tensor and offset like the CLI tools."""


def all_types() -> list[tuple[int, str, int, int, str, bool, bool]]:
    """(id, name, block_size, type_size, kind, can_dequantize, can_quantize) of every type."""
def parse_type(name: str) -> int: ...
def active_target() -> str:
    """The SIMD target the dequantizers use ("AVX3", "AVX2", ..., "scalar")."""
def dequantize_into(type: int, data: Buffer, out: Buffer, out_type: int, threads: int) -> None:
    """Blocks of `type` in `data` -> `out` (0 f32, 1 f16, 2 bf16); sizes must match exactly."""
def quantize_into(type: int, data: Buffer, n_per_row: int, out: Buffer,
                  imatrix: Optional[Buffer], threads: int) -> None:
    """float32 rows of n_per_row in `data` -> blocks of `type` in `out`."""
def dequantize_file(input: str, output: str, out_type: int, format: str, tensor_regex: str,
                    threads: int, zstd_level: Optional[int],
                    progress: Optional[Callable[[int, int, str, int, int], Any]]) -> dict[str, Any]: ...
def kv_plan(model: str, layers: int, kv_heads: int, head_dim: int, head_dim_v: int,
            contexts: str, k_types: str, v_types: str, variant: str, budget: str,
            weights_bytes: str, measure: bool,
            progress: Optional[Callable[[int, int], Any]]) -> str:
    """gguf-kvplan --json's text."""


class Model:
    """An open GGUF model (file, split model, .gguf.zst)."""
    def __init__(self, path: str) -> None: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def forward_only(self) -> bool: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def alignment(self) -> int: ...
    @property
    def big_endian(self) -> bool: ...
    def shard_paths(self) -> list[str]: ...
    def tensors(self) -> list[tuple[str, int, tuple[int, ...], int, int, int, int, int, int]]: ...
    def metadata(self) -> list[tuple[str, str, int, Any]]: ...
    def read_rows(self, index: int, out_type: int, out: Buffer, row_begin: int, row_end: int,
                  threads: int) -> None: ...


# Present only in builds with the gguf-quantize library (GGUFKIT_PY_HAVE_QUANTIZE).
def quantize_file(input: str, output: str, ftype: str, imatrix: str, threads: int,
                  allow_requantize: bool, leave_output_tensor: bool, pure: bool,
                  progress: Optional[Callable[[int, int, str, int, int], Any]]) -> dict[str, Any]: ...
