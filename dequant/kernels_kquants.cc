// Per-target instantiations of the K-quant (Q2_K, Q3_K, Q5_K) and TQ2_0 family kernels. Kernel
// families live in separate .cc files so each translation unit (compiled once per Highway target)
// stays small.
#include <cstdint>

#include "ggufkit/dequant/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/kernels_kquants.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/k_quants-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

#if HWY_TARGET != HWY_SCALAR
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ2_K);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ3_K);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeQ5_K);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeTQ2_0);
#endif  // HWY_TARGET != HWY_SCALAR

dequant_internal::KernelFn FindKQuantKernelForTarget(GgmlType type, OutputType out_type,
                                                     dequant_internal::StoreKind store) {
#if HWY_TARGET == HWY_SCALAR
  return dequant_internal::NoKernelOnScalar(type, out_type, store);
#else
  // Misaligned output (AVX3 +4, x aligned): Q2_K's plain stores in element
  // order ran faster than RealignF32's permutes (0.84x against 0.80x), and
  // 0.89-0.92x with PrefetchF32; with two shifts in four gone (aligned 7 %
  // faster) PrefetchF32 still leads (3.31-3.37 us against RealignF32's 3.42
  // and plain stores' 3.61), at 0.85-0.86x of the faster aligned. Q5_K took
  // RealignF32 since its tables' broadcasts went into the instructions (4.37
  // us against 4.50 with plain stores), and now PrefetchF32 (3.93-3.94 us);
  // Q3_K 0.97x -> 0.99x.
  return FindInFamily<
      FamilyEntry<GgmlType::kQ2_K, DequantizeQ2_KKernel, Misaligned::kPrefetch>,
      FamilyEntry<GgmlType::kQ3_K, DequantizeQ3_KKernel, Misaligned::kPrefetchAligned>,
      FamilyEntry<GgmlType::kQ5_K, DequantizeQ5_KKernel, Misaligned::kPrefetchAligned>,
      FamilyEntry<GgmlType::kTQ2_0, DequantizeTQ2_0Kernel, Misaligned::kRealign> >(type, out_type,
                                                                                   store);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_DEQUANT_EXPORT_FAMILY(KQuant)
#endif  // HWY_ONCE
