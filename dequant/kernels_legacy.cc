// Per-target instantiations of the legacy (Q4_0, Q4_1, Q5_0, Q5_1) family kernels. Kernel families
// live in separate .cc files so each translation unit (compiled once per Highway target) stays
// small.
#include <cstdint>

#include "dequant/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dequant/kernels_legacy.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "dequant/legacy-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

#if HWY_TARGET != HWY_SCALAR
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ4_0);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ4_1);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ5_0);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ5_1);
#endif  // HWY_TARGET != HWY_SCALAR

dequant_internal::KernelFn FindLegacyKernelForTarget(GgmlType type, OutputType out_type,
                                                     bool streaming) {
#if HWY_TARGET == HWY_SCALAR
  (void)type;
  (void)out_type;
  (void)streaming;
  return nullptr;
#else
  switch (type) {
    case GgmlType::kQ4_0:
      return ForOutput<DequantizeQ4_0Kernel>(out_type, streaming);
    case GgmlType::kQ4_1:
      return ForOutput<DequantizeQ4_1Kernel>(out_type, streaming);
    case GgmlType::kQ5_0:
      return ForOutput<DequantizeQ5_0Kernel>(out_type, streaming);
    case GgmlType::kQ5_1:
      return ForOutput<DequantizeQ5_1Kernel>(out_type, streaming);
    default:
      return nullptr;
  }
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_DEQUANT_EXPORT_FAMILY(Legacy)
#endif  // HWY_ONCE
