// Per-target instantiations of the simple quantizers (Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, TQ1_0, TQ2_0, Q1_0, MXFP4).
#include <cstdint>

#include "ggufkit/dequant/quantize_kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/quantize_simple.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/quantize_simple-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

quantize_internal::QuantizeFn FindSimpleQuantizerForTarget(GgmlType type, bool with_imatrix) {
#if HWY_TARGET == HWY_SCALAR
  (void)type;
  (void)with_imatrix;
  return nullptr;
#else
  return FindQuantizerInFamily<QuantizerEntry<GgmlType::kQ8_0, &QuantizeQ8_0, true>,
                               QuantizerEntry<GgmlType::kQ4_0, &QuantizeQ4_0, true>,
                               QuantizerEntry<GgmlType::kQ4_1, &QuantizeQ4_1, true>,
                               QuantizerEntry<GgmlType::kQ5_0, &QuantizeQ5_0, true>,
                               QuantizerEntry<GgmlType::kQ5_1, &QuantizeQ5_1, true>,
                               QuantizerEntry<GgmlType::kTQ1_0, &QuantizeTq1_0, true>,
                               QuantizerEntry<GgmlType::kTQ2_0, &QuantizeTq2_0, true>,
                               QuantizerEntry<GgmlType::kQ1_0, &QuantizeQ1_0, true>,
                               QuantizerEntry<GgmlType::kMXFP4, &QuantizeMxfp4, true> >(
      type, with_imatrix);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_QUANTIZE_EXPORT_FAMILY(Simple)
#endif  // HWY_ONCE
