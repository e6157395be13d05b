// Internal: the interface between quantize_dispatch.cc and the per-target
// quantizer families (quantize_*.cc). No Highway types.
#ifndef GGUFKIT_DEQUANT_QUANTIZE_KERNELS_H_
#define GGUFKIT_DEQUANT_QUANTIZE_KERNELS_H_

#include <cstdint>

#include "ggufkit/quants/type_traits.h"

namespace ggufkit::quantize_internal {

// Same contract as the reference QuantizeRowFn: quantizes n floats (whole
// blocks) of x into `blocks`; `imatrix` is nullptr, or (for a quantizer
// found with with_imatrix) n weights: then x is exactly one row, because the
// imatrix quantizers use row statistics. No alignment needed.
using QuantizeFn = void (*)(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

// Each family returns the quantizer of the dispatched Highway target for
// `type`, or nullptr when it has none (always nullptr on HWY_SCALAR, which
// uses the reference codecs). `with_imatrix`: the quantizer must handle a
// non-null imatrix (types that ignore the imatrix answer the same for both).
QuantizeFn FindSimpleQuantizer(GgmlType type, bool with_imatrix);  // Q8_0 Q4_0..Q5_1 TQ* Q1_0 MXFP4
QuantizeFn FindKQuantQuantizer(GgmlType type, bool with_imatrix);    // Q2_K..Q6_K
QuantizeFn FindCodebookQuantizer(GgmlType type, bool with_imatrix);  // IQ4_NL IQ4_XS

// Whether this CPU runs a 512-bit vector operation as two 256-bit halves
// (AMD Zen 4, CPUID family 19h): there the AVX3 quantizers of the 32-weight
// formats (their fast groups) reduce each block on 256-bit vectors, whose
// trees need one shuffle level less; on CPUs with 512-bit units (Intel) on
// 512-bit vectors, which carry twice the lanes per operation. Both give the
// same bytes. Read from CPUID once.
bool Split512BitVectors();
// For tests: 0 or 1 forces the answer of Split512BitVectors, -1 restores
// the CPU's. Not thread-safe against running quantizers.
void SetSplit512BitVectorsForTest(int answer);

// At file scope, under HWY_ONCE, in the family's .cc: exports the per-target
// Find<Family>QuantizerForTarget and defines the dispatching lookup.
#define GGUFKIT_QUANTIZE_EXPORT_FAMILY(Family)                                      \
  namespace ggufkit {                                                               \
  HWY_EXPORT(Find##Family##QuantizerForTarget);                                     \
  namespace quantize_internal {                                                     \
  QuantizeFn Find##Family##Quantizer(GgmlType type, bool with_imatrix) {            \
    return HWY_DYNAMIC_DISPATCH(Find##Family##QuantizerForTarget)(type, with_imatrix); \
  }                                                                                 \
  }                                                                                 \
  }

}  // namespace ggufkit::quantize_internal

#endif  // GGUFKIT_DEQUANT_QUANTIZE_KERNELS_H_
