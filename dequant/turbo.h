// SIMD codecs of the TurboQuant KV-cache formats (turbo2 / turbo3 / turbo4,
// quants/turbo.h) and the 128-point rotation they use, over many 128-element
// groups at once.
//
// Every function is bit-exact with its scalar reference in quants/turbo.h
// (QuantizeTurboGroup, DequantizeTurboGroup, WhtForward128, WhtInverse128) on
// every compiled target: the rotation runs the same butterflies on the same
// operands, the two norms are summed in the reference's sequential order, and
// an index is the same count of threshold comparisons. tests/dequant/
// turbo_test.cc checks it byte for byte.
//
// The dequantized values are in the ROTATED domain, as the fork leaves them;
// RotateTurboGroups(kInverse) maps them back to the original domain.
// q8_0 / q4_0 KV rows dequantize through DequantizeBlocks (dequant/dequant.h),
// the same kernels as the weights.
#ifndef GGUFKIT_DEQUANT_TURBO_H_
#define GGUFKIT_DEQUANT_TURBO_H_

#include <cstdint>

#include "absl/status/status.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/quants/turbo.h"

namespace ggufkit {

// Dequantizes n_groups consecutive blocks of TurboBlockBytes(format, variant)
// bytes into y[0 .. 128 * n_groups). No alignment needed.
// InvalidArgumentError for a negative count, null pointers with n_groups > 0,
// or an unknown format / variant.
absl::Status DequantizeTurboGroups(TurboFormat format, TurboVariant variant, const uint8_t* blocks,
                                   int64_t n_groups, float* y,
                                   const DequantOptions& options = DequantOptions());

// Quantizes x[0 .. 128 * n_groups) into n_groups blocks. Same errors.
absl::Status QuantizeTurboGroups(TurboFormat format, TurboVariant variant, const float* x,
                                 int64_t n_groups, uint8_t* blocks,
                                 const DequantOptions& options = DequantOptions());

// (RotationDirection: quants/turbo.h.)

// Rotates x[0 .. 128 * n_groups) in place, group by group.
absl::Status RotateTurboGroups(float* x, int64_t n_groups, RotationDirection direction,
                               const DequantOptions& options = DequantOptions());

}  // namespace ggufkit

#endif  // GGUFKIT_DEQUANT_TURBO_H_
