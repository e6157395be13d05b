// Per-target instantiations of the codebook (IQ4_NL, IQ4_XS, MXFP4) family kernels. Kernel families
// live in separate .cc files so each translation unit (compiled once per Highway target) stays
// small.
#include <cstdint>

#include "ggufkit/dequant/kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/kernels_codebook.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/codebook-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

#if HWY_TARGET != HWY_SCALAR
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeIQ4_NL);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeIQ4_XS);
GGUFKIT_DEQUANT_KERNEL_ADAPTER(DequantizeMXFP4);
#endif  // HWY_TARGET != HWY_SCALAR

dequant_internal::KernelFn FindCodebookKernelForTarget(GgmlType type, OutputType out_type,
                                                       dequant_internal::StoreKind store) {
#if HWY_TARGET == HWY_SCALAR
  return dequant_internal::NoKernelOnScalar(type, out_type, store);
#else
  // Misaligned AVX3 output of IQ4_XS: PrefetchF32 measured no faster than
  // plain stores on Zen 4 (seventh pass of docs/performance.md) and 25 %
  // faster on an Intel Xeon (Emerald Rapids), where plain split stores ran
  // 0.73x aligned: +4 bytes 8.03 -> 5.96 us per 256 KiB, aligned 5.85 us
  // (RealignF32 6.20 us). With the sub-block scales computed one block at a
  // time as a vector (IQ4XSScales), that Xeon's +4 bytes ran 0.92-1.02x
  // aligned in cache, against 0.66-0.76x with a scalar scale per sub-block.
  return FindInFamily<
      FamilyEntry<GgmlType::kIQ4_NL, DequantizeIQ4_NLKernel, Misaligned::kPrefetchAligned>,
      FamilyEntry<GgmlType::kIQ4_XS, DequantizeIQ4_XSKernel, Misaligned::kPrefetch>,
      FamilyEntry<GgmlType::kMXFP4, DequantizeMXFP4Kernel, Misaligned::kPrefetch> >(type, out_type,
                                                                                    store);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
GGUFKIT_DEQUANT_EXPORT_FAMILY(Codebook)
#endif  // HWY_ONCE
