// Per-target instantiations of the mission formats' kernels: Q8_0, Q4_K,
// Q6_K, Q1_0. Kernel families live in separate .cc files so that each
// translation unit (compiled once per Highway target) stays small.
#include <cstdint>

#include "ggufkit/dequant/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/kernels_mission.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/q1_0-inl.h"
#include "ggufkit/dequant/q4_k-inl.h"
#include "ggufkit/dequant/q6_k-inl.h"
#include "ggufkit/dequant/q8_0-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

#if HWY_TARGET != HWY_SCALAR
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ8_0);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ4_K);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ6_K);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ1_0);
#endif  // HWY_TARGET != HWY_SCALAR

dequant_internal::KernelFn FindMissionKernelForTarget(GgmlType type, OutputType out_type,
                                                      dequant_internal::StoreKind store) {
#if HWY_TARGET == HWY_SCALAR
  return dequant_internal::NoKernelOnScalar(type, out_type, store);
#else
  return FindInFamily<FamilyEntry<GgmlType::kQ8_0, DequantizeQ8_0Kernel, Misaligned::kRealign>,
                      FamilyEntry<GgmlType::kQ4_K, DequantizeQ4_KKernel, Misaligned::kRealign>,
                      FamilyEntry<GgmlType::kQ6_K, DequantizeQ6_KKernel, Misaligned::kRealign>,
                      FamilyEntry<GgmlType::kQ1_0, DequantizeQ1_0Kernel, Misaligned::kRealign> >(
      type, out_type, store);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_DEQUANT_EXPORT_FAMILY(Mission)
#endif  // HWY_ONCE
