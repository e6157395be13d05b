// Per-target instantiations of the codebook quantizers (IQ4_NL, IQ4_XS).
#include <cstdint>

#include "ggufkit/dequant/quantize_kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/quantize_codebook.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/quantize_iq4-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

quantize_internal::QuantizeFn FindCodebookQuantizerForTarget(GgmlType type, bool with_imatrix) {
#if HWY_TARGET == HWY_SCALAR
  (void)type;
  (void)with_imatrix;
  return nullptr;
#else
  return FindQuantizerInFamily<QuantizerEntry<GgmlType::kIQ4_NL, &QuantizeIq4Nl, true>,
                               QuantizerEntry<GgmlType::kIQ4_XS, &QuantizeIq4Xs, true> >(
      type, with_imatrix);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_QUANTIZE_EXPORT_FAMILY(Codebook)
#endif  // HWY_ONCE
