// Quantization of fp32 rows into ggml blocks, with Google Highway SIMD
// quantizers chosen at run time for the CPU (AVX3, AVX2, SSE4, SSSE3).
//
// QuantizeBlocks() checks its preconditions once, then runs the SIMD
// quantizer of the type when one exists for the active target, else the
// scalar reference quantizer of quants/ (GetReferenceCodec). The SIMD
// quantizers write the same bytes as the reference (and so as ggml) for every
// input, Inf, subnormals and NaN included: each block goes through the
// reference's operations in the reference's order
// (tests/dequant/quantize_simd_test.cc checks every compiled target with
// memcmp). Blocks whose result depends on how a NaN travels through an
// order-sensitive reduction are handed to the reference quantizer one block
// at a time. One case is defined by no source code: when two NaNs with
// different payloads or signs meet in one addition or multiplication, IEEE
// 754 lets either survive and the compiler's operand order decides (in
// ggml's build as in ours); bytes that depend on that may differ.
//
// One call is one thread. No Highway type appears here.
#ifndef GGUFKIT_DEQUANT_QUANTIZE_H_
#define GGUFKIT_DEQUANT_QUANTIZE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {

struct QuantizeOptions {
  // Use the scalar reference quantizer even where a SIMD one exists.
  // GGUFKIT_FORCE_SCALAR=1 in the environment has the same effect
  // (see ScalarForcedByEnvironment in dequant/dequant.h).
  bool force_scalar = false;
};

// Quantizes `n_rows` rows of `n_per_row` floats (row-major at `x`) into
// `out`, which receives n_rows * RowSizeBytes(type, n_per_row) bytes: row r
// starts at r * RowSizeBytes(type, n_per_row).
// `imatrix`: nullptr, or n_per_row importance weights shared by every row;
// read only by types whose reference quantizer takes one
// (GetReferenceCodec(type).uses_imatrix), ignored by the others, as ggml does.
// Same bytes as ggufkit::Quantize (quants/quants.h) with the same arguments.
// No alignment is required of any pointer; the ranges must not overlap.
// Returns:
//  - InvalidArgumentError if `type` is not a valid id, n_rows or n_per_row is
//    negative, n_per_row is not a whole number of blocks, the byte count
//    overflows, a pointer is null while there is work, or the type needs an
//    imatrix (GetReferenceCodec(type).requires_imatrix) and none is given;
//  - UnimplementedError if the type has neither a SIMD nor a reference
//    quantizer;
//  - OkStatus otherwise (zero rows or columns write nothing).
absl::Status QuantizeBlocks(GgmlType type, const float* x, int64_t n_rows, int64_t n_per_row,
                            void* out, const float* imatrix = nullptr,
                            const QuantizeOptions& options = QuantizeOptions());

// True when QuantizeBlocks(type, ...) would run a SIMD quantizer on the
// active target (GGUFKIT_FORCE_SCALAR unset), with (`with_imatrix`) or
// without an importance matrix. For types that ignore the imatrix both
// answers are the same.
bool HasSimdQuantizer(GgmlType type, bool with_imatrix);

// Targets: SupportedDequantTargets() and ScopedDequantTarget (dequant.h)
// select the quantizers' target too.

}  // namespace ggufkit

#endif  // GGUFKIT_DEQUANT_QUANTIZE_H_
