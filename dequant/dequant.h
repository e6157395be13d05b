// Dequantization of ggml blocks into fp32 / fp16 / bf16, with Google Highway
// SIMD kernels chosen at run time for the CPU (AVX3, AVX2, SSE4, SSSE3).
//
// One entry point serves every GgmlType: DequantizeBlocks() checks its
// preconditions once, then runs the SIMD kernel of the type when one exists
// for the active target, else the scalar reference codec of quants/
// (GetReferenceCodec) followed by a round-to-nearest-even conversion. SIMD
// kernels are bit-exact with the reference (tests/dequant checks every
// compiled target with memcmp), so the choice is invisible in the output.
//
// One call is one thread: kernels never spawn threads. Callers that want
// parallelism split a tensor into row ranges and call this once per range.
//
// No Highway type appears here; the per-target code lives in dequant/*-inl.h.
#ifndef GGUFKIT_DEQUANT_DEQUANT_H_
#define GGUFKIT_DEQUANT_DEQUANT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "ggufkit/quants/output_type.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {

// Element type written to the output buffer.
// OutputType (f32 / f16 / bf16): quants/output_type.h.

// How output is written (f32, f16 and bf16 alike; SSE4/SSSE3 kernels write
// f16/bf16 with cached stores in every mode).
enum class StoreMode : uint8_t {
  // Non-temporal stores when the output is at least kStreamingMinBytes and
  // `out` is 64-byte aligned; cached stores otherwise.
  kAuto,
  // Always cached stores: the caller reads the output soon (it fits in cache).
  kCached,
  // Non-temporal stores whenever `out` is 64-byte aligned: the output goes to
  // memory without first reading each line (about 1.3x faster out of cache)
  // and does not evict the caller's working set, but is not left in cache;
  // right for buffers handed to O_DIRECT writes or the GPU.
  kStreaming,
};

// kAuto streams outputs of at least this many bytes.
inline constexpr int64_t kStreamingMinBytes = int64_t{16} << 20;

struct DequantOptions {
  // Use the scalar reference codec even where a SIMD kernel exists. The
  // environment variable GGUFKIT_FORCE_SCALAR=1 has the same effect for every
  // call in the process (read once, at the first call).
  bool force_scalar = false;
  // Only f32 output from SIMD kernels streams; the bytes written are the same.
  StoreMode store_mode = StoreMode::kAuto;
};

// ---------------------------------------------------------------------------
// The front door: one obvious way to (de)quantize a buffer. Each call runs
// the fastest bit-exact path this CPU has (a Highway SIMD codec when there is
// one, else the quants/ reference, ggufkit::reference::), on the calling
// thread, and checks both spans: the element count is out's (Dequantize) or
// x's (Quantize), and the other span must hold exactly RowSizeBytes(type, n)
// bytes; n must be a whole number of blocks. Errors are InvalidArgument
// naming the sizes, or Unimplemented for a type without a codec.
// ---------------------------------------------------------------------------

// `in` -> f32.
absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> in, absl::Span<float> out,
                        const DequantOptions& options = DequantOptions());
// `in` -> f16 or bf16 bits (out_type kF16 or kBF16).
absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> in, absl::Span<uint16_t> out,
                        OutputType out_type, const DequantOptions& options = DequantOptions());
// `in` -> out_type elements in raw bytes (out.size() = n * OutputElementBytes);
// for bindings that hold untyped buffers.
absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> in, absl::Span<uint8_t> out,
                        OutputType out_type, const DequantOptions& options = DequantOptions());

// x (a whole number of blocks) -> exactly RowSizeBytes(type, x.size()) bytes.
// `imatrix`: as reference::Quantize (quants/quants.h): empty, or per-column
// importance weights for rows of imatrix.size() elements. Bytes identical to
// ggml's quantizer whichever path runs.
absl::Status Quantize(GgmlType type, absl::Span<const float> x, absl::Span<uint8_t> out,
                      absl::Span<const float> imatrix = {});

// Dequantizes `n_elements` elements of `type`, stored as consecutive blocks at
// `blocks`, into out[0 .. n_elements) as `out_type` elements. (The pointer
// form of Dequantize, for callers that already checked their sizes.)
// No alignment is required of either pointer; the ranges must not overlap.
// Returns:
//  - InvalidArgumentError if `type` is not a valid id, is an integer type
//    (I8..I64 are never dequantized), n_elements is negative or not a whole
//    number of blocks, or a pointer is null while n_elements > 0;
//  - UnimplementedError if the type has neither a SIMD kernel nor a
//    registered reference dequantizer;
//  - OkStatus otherwise (n_elements == 0 writes nothing).
// F32 -> kF32, F16 -> kF16 and BF16 -> kBF16 are exact byte copies (NaN
// payloads included) on every path.
absl::Status DequantizeBlocks(GgmlType type, const uint8_t* blocks, int64_t n_elements, void* out,
                              OutputType out_type,
                              const DequantOptions& options = DequantOptions());

// True when DequantizeBlocks(type, ..., out_type) would run a SIMD kernel
// (active target, GGUFKIT_FORCE_SCALAR unset).
bool HasSimdKernel(GgmlType type, OutputType out_type);

// The Highway target that DequantizeBlocks uses now ("AVX3", "AVX2", "SSE4",
// "SSSE3"), or "scalar" when GGUFKIT_FORCE_SCALAR=1 or the best target is
// Highway's scalar fallback (which always uses the reference codecs).
std::string ActiveDequantTarget();

// True when GGUFKIT_FORCE_SCALAR is set to a value other than "" and "0".
bool ScalarForcedByEnvironment();

// ---------------------------------------------------------------------------
// Per-target access, for tests and benchmarks.
// ---------------------------------------------------------------------------

struct DequantTarget {
  int64_t id;        // Highway's target bit (opaque here)
  std::string name;  // "AVX3", "AVX2", "SSE4", "SSSE3", "SCALAR"
  // An AVX3 target on a CPU with AVX512-FP16: some f16-output kernels
  // multiply in halves where that rounds exactly as the reference does.
  bool avx512fp16 = false;
};

// Targets compiled into the library that this CPU supports, best first.
std::vector<DequantTarget> SupportedDequantTargets();

// While alive, DequantizeBlocks (in every thread) dispatches to `target_id`
// as if it were the best target; with avx512fp16 false, AVX3 kernels also
// leave AVX512-FP16 unused (tests run them both ways). Not thread-safe to
// construct or destroy while other threads dequantize; meant for tests and
// benchmarks.
class ScopedDequantTarget {
 public:
  explicit ScopedDequantTarget(int64_t target_id, bool avx512fp16 = true);
  ~ScopedDequantTarget();
  ScopedDequantTarget(const ScopedDequantTarget&) = delete;
  ScopedDequantTarget& operator=(const ScopedDequantTarget&) = delete;
};

}  // namespace ggufkit

#endif  // GGUFKIT_DEQUANT_DEQUANT_H_
