// Per-target instantiations of the legacy (Q4_0, Q4_1, Q5_0, Q5_1) family kernels. Kernel families
// live in separate .cc files so each translation unit (compiled once per Highway target) stays
// small.
#include <cstdint>

#include "ggufkit/dequant/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/kernels_legacy.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/legacy-inl.h"
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
                                                     dequant_internal::StoreKind store) {
#if HWY_TARGET == HWY_SCALAR
  return dequant_internal::NoKernelOnScalar(type, out_type, store);
#else
  return FindInFamily<
      FamilyEntry<GgmlType::kQ4_0, DequantizeQ4_0Kernel, Misaligned::kRealign>,
      FamilyEntry<GgmlType::kQ4_1, DequantizeQ4_1Kernel, Misaligned::kRealign>,
      FamilyEntry<GgmlType::kQ5_0, DequantizeQ5_0Kernel, Misaligned::kPrefetchAligned>,
      FamilyEntry<GgmlType::kQ5_1, DequantizeQ5_1Kernel, Misaligned::kPrefetchAligned> >(
      type, out_type, store);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_DEQUANT_EXPORT_FAMILY(Legacy)
#endif  // HWY_ONCE
