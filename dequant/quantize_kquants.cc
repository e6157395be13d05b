// Per-target instantiations of the K-quant quantizers.
#include <cstdint>

#include "ggufkit/dequant/quantize_kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/quantize_kquants.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/quantize_kquants-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

quantize_internal::QuantizeFn FindKQuantQuantizerForTarget(GgmlType type, bool with_imatrix) {
#if HWY_TARGET == HWY_SCALAR
  (void)type;
  (void)with_imatrix;
  return nullptr;
#else
  return FindQuantizerInFamily<QuantizerEntry<GgmlType::kQ4_K, &QuantizeQ4_K, true>,
                               QuantizerEntry<GgmlType::kQ5_K, &QuantizeQ5_K, true>,
                               QuantizerEntry<GgmlType::kQ6_K, &QuantizeQ6_K, true>,
                               QuantizerEntry<GgmlType::kQ2_K, &QuantizeQ2_K, true>,
                               QuantizerEntry<GgmlType::kQ3_K, &QuantizeQ3_K, true> >(
      type, with_imatrix);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_QUANTIZE_EXPORT_FAMILY(KQuant)
#endif  // HWY_ONCE
