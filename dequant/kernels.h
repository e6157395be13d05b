// Internal: the interface between dispatch.cc and the per-target kernel
// families (kernels_*.cc). No Highway types, so dispatch.cc stays
// target-independent.
#ifndef GGUFKIT_DEQUANT_KERNELS_H_
#define GGUFKIT_DEQUANT_KERNELS_H_

#include <cstdint>

#include "ggufkit/dequant/dequant.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::dequant_internal {

// Dequantizes n_blocks consecutive blocks (for F32/F16/BF16 input: elements)
// into `out`, whose element type is fixed by the kernel. Trusts its caller:
// non-null pointers, n_blocks >= 0. No alignment needed.
using KernelFn = void (*)(const uint8_t* blocks, int64_t n_blocks, void* out);

// How a kernel writes its output: plain (unaligned) vector stores;
// non-temporal stores (`out` aligned to 64 bytes; hwy::FlushStream()
// afterwards; f32 on every target, f16/bf16 on AVX2 and up); or, for cached
// output not 64-byte aligned, `out` aligned to its element size: aligned
// vector stores, assembled from two consecutive vectors (RealignF32: AVX3)
// or built from the input at the output's offset by the kernel itself
// (Q8_0 on all targets, TQ2_0 on AVX2 and AVX3, and on AVX3 Q1_0, Q4_K);
// f32 output of the kernels whose FamilyEntry asks for it, plain stores
// otherwise. kStreamingMisaligned: non-temporal stores of realigned vectors
// (StreamRealign) into output aligned to its element but not to 64 bytes
// (hwy::FlushStream() afterwards), f32 / f16 / bf16, on AVX2 and AVX3 only
// (nullptr elsewhere: dispatch.cc then copies through an aligned scratch).
// Element-wise types get neither kRealign nor kStreamingMisaligned:
// dispatch.cc splits their output at the first line boundary.
enum class StoreKind { kPlain, kStreaming, kRealign, kStreamingMisaligned };

// How a kernel writes StoreKind::kRealign output (f32, cached, not 64-byte
// aligned; FamilyEntry): plain unaligned stores (kPlain); aligned stores of
// realigned vectors (kRealign: RealignF32 on AVX3, or the kernel's own
// input-side realignment); or plain stores with a software prefetch of the
// line 1 KiB ahead (kPrefetch: PrefetchF32 on AVX3 and AVX2, plain stores
// elsewhere). On AVX2 kRealign prefetches too (RealignF32 is PrefetchF32
// there, see dequant/output-inl.h). kPrefetchAligned is kPrefetch, and on
// AVX3 the kernel's 64-byte-aligned cached f32 output (StoreKind::kPlain)
// takes PrefetchF32 too: measured in cache on an Intel Xeon, Q5_0 8 % and
// Q5_1 10 % faster, Q5_K, Q3_K and IQ4_NL 3-4 %; Q2_K and MXFP4 unchanged and
// IQ4_XS 1-4 % slower (18 % slower on Zen 4, seventh pass), so they keep
// kPrefetch. On AVX2 it would cost Q5_0 and Q5_1 2-4 % and leave Q2_K's
// misaligned output at 0.86x the faster aligned, so AVX2 keeps plain aligned
// stores for every kernel.
// Each kernel takes what measured fastest (docs/performance.md).
enum class Misaligned { kPlain, kRealign, kPrefetch, kPrefetchAligned };

// Each family returns the kernel of the currently dispatched Highway target
// for (type, out_type, store), or nullptr when the family has none (always
// nullptr on HWY_SCALAR, which uses the reference codecs: see
// NoKernelOnScalar).
KernelFn FindMissionKernel(GgmlType type, OutputType out_type,
                           StoreKind store);  // Q8_0 Q4_K Q6_K Q1_0
KernelFn FindLegacyKernel(GgmlType type, OutputType out_type,
                          StoreKind store);  // Q4_0 Q4_1 Q5_0 Q5_1
KernelFn FindKQuantKernel(GgmlType type, OutputType out_type,
                          StoreKind store);  // Q2_K Q3_K Q5_K TQ2_0
KernelFn FindCodebookKernel(GgmlType type, OutputType out_type,
                            StoreKind store);  // IQ4_NL IQ4_XS MXFP4
KernelFn FindFloatKernel(GgmlType type, OutputType out_type, StoreKind store);  // F32 F16 BF16

// What every family's per-target lookup returns on HWY_SCALAR.
inline KernelFn NoKernelOnScalar(GgmlType, OutputType, StoreKind) { return nullptr; }

// Inside a per-target namespace: wraps the kernel template Name<Writer> as
// Name##Kernel<Writer>::Run, a plain function ForOutput<Name##Kernel> can
// return by address for each output type: it makes the call's Writer, runs
// the kernel with it and finishes it.
#define GGUFKIT_DEQUANT_KERNEL_ADAPTER(Name)                              \
  template <class Writer>                                                 \
  struct Name##Kernel {                                                   \
    static void Run(const uint8_t* blocks, int64_t n_blocks, void* out) { \
      Writer writer(out);                                                 \
      Name<Writer>(blocks, n_blocks, writer);                             \
      writer.Finish();                                                    \
    }                                                                     \
  }

// At file scope, under HWY_ONCE, in the family's .cc: exports the per-target
// Find<Family>KernelForTarget and defines dequant_internal::Find<Family>Kernel,
// the dispatching lookup that dispatch.cc calls.
#define GGUFKIT_DEQUANT_EXPORT_FAMILY(Family)                                          \
  namespace ggufkit {                                                                  \
  HWY_EXPORT(Find##Family##KernelForTarget);                                           \
  namespace dequant_internal {                                                         \
  KernelFn Find##Family##Kernel(GgmlType type, OutputType out_type, StoreKind store) { \
    return HWY_DYNAMIC_DISPATCH(Find##Family##KernelForTarget)(type, out_type, store); \
  }                                                                                    \
  }                                                                                    \
  }

// Whether the CPU has AVX512-FP16 (half-precision arithmetic; Sapphire
// Rapids and later), and whether AVX3 kernels may use it now: the CPU has
// it and no ScopedDequantTarget turned it off.
bool CpuHasAvx512Fp16();
bool Avx512Fp16Enabled();

// Name of the currently dispatched Highway target ("AVX3", ..., "SCALAR").
const char* DispatchedTargetName();

}  // namespace ggufkit::dequant_internal

#endif  // GGUFKIT_DEQUANT_KERNELS_H_
