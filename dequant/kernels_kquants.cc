// Per-target instantiations of the K-quant (Q2_K, Q3_K, Q5_K) and TQ2_0 family kernels. Kernel
// families live in separate .cc files so each translation unit (compiled once per Highway target)
// stays small.
#include <cstdint>

#include "dequant/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dequant/kernels_kquants.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "dequant/k_quants-inl.h"
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
                                                     bool streaming) {
#if HWY_TARGET == HWY_SCALAR
  (void)type;
  (void)out_type;
  (void)streaming;
  return nullptr;
#else
  switch (type) {
    case GgmlType::kQ2_K:
      return ForOutput<DequantizeQ2_KKernel>(out_type, streaming);
    case GgmlType::kQ3_K:
      return ForOutput<DequantizeQ3_KKernel>(out_type, streaming);
    case GgmlType::kQ5_K:
      return ForOutput<DequantizeQ5_KKernel>(out_type, streaming);
    case GgmlType::kTQ2_0:
      return ForOutput<DequantizeTQ2_0Kernel>(out_type, streaming);
    default:
      return nullptr;
  }
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_DEQUANT_EXPORT_FAMILY(KQuant)
#endif  // HWY_ONCE
