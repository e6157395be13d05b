// Per-target instantiations of the float conversions: F32, F16, BF16 input.
#include <cstdint>

#include "ggufkit/dequant/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/kernels_float.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/float-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

#if HWY_TARGET != HWY_SCALAR
GGUFKIT_DEQUANT_KERNEL_ADAPTER(ConvertF32);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(ConvertF16);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(ConvertBF16);
#endif  // HWY_TARGET != HWY_SCALAR

dequant_internal::KernelFn FindFloatKernelForTarget(GgmlType type, OutputType out_type,
                                                    dequant_internal::StoreKind store) {
#if HWY_TARGET == HWY_SCALAR
  return dequant_internal::NoKernelOnScalar(type, out_type, store);
#else
  switch (type) {
    case GgmlType::kF32:
      return out_type == OutputType::kF32 ? &CopyElements<4>
                                          : ForOutput<ConvertF32Kernel>(out_type, store);
    case GgmlType::kF16:
      return out_type == OutputType::kF16 ? &CopyElements<2>
                                          : ForOutput<ConvertF16Kernel>(out_type, store);
    case GgmlType::kBF16:
      return out_type == OutputType::kBF16 ? &CopyElements<2>
                                           : ForOutput<ConvertBF16Kernel>(out_type, store);
    default:
      return nullptr;
  }
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_DEQUANT_EXPORT_FAMILY(Float)
#endif  // HWY_ONCE
