// Q8_0 SIMD dequantizer (per target). Format: quants/block_*.h and docs/types.md.

#if defined(GGUFKIT_DEQUANT_Q8_0_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_Q8_0_INL_H_
#undef GGUFKIT_DEQUANT_Q8_0_INL_H_
#else
#define GGUFKIT_DEQUANT_Q8_0_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/output-inl.h"
#include "hwy/highway.h"
#include "ggufkit/quants/half.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// Q8_0, 34 bytes per 32 weights:
//   byte 0..1  half d
//   byte 2..33 int8 qs[32]
// y[i] = d * qs[i]. The product of a float and a small integer converted to
// float is the same in any order, so one vector multiply per Lanes(df).
inline constexpr size_t kQ8_0BlockBytes = 34;

template <class Writer>
HWY_INLINE void DequantizeQ8_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kQ8_0BlockBytes;
    const VF d = hn::Set(df, LoadHalfFactor(block));
    const size_t base = static_cast<size_t>(b) * 32;
    for (size_t i = 0; i < 32; i += lanes) {
      out.Store(hn::Mul(ToFloat(LoadI8AsI32(block + 2 + i)), d), base + i);
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_Q8_0_INL_H_
