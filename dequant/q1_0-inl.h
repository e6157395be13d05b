// Q1_0 SIMD dequantizer (per target). Format: quants/block_*.h and docs/types.md.

#if defined(GGUFKIT_DEQUANT_Q1_0_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_Q1_0_INL_H_
#undef GGUFKIT_DEQUANT_Q1_0_INL_H_
#else
#define GGUFKIT_DEQUANT_Q1_0_INL_H_
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

// Q1_0, 18 bytes per 128 weights:
//   byte 0..1  half d
//   byte 2..17 u8 qs[16]: weight j is bit (j % 8) of qs[j / 8], LSB first
// y[j] = bit ? d : -d (a sign flip, never a multiply, so no rounding at all).
// Each vector of Lanes(df) weights broadcasts the Lanes bits it needs to every
// lane and tests bit `lane` in lane `lane`: no per-bit branch as in ggml.
inline constexpr size_t kQ1_0BlockBytes = 18;

template <class Writer>
HWY_INLINE void DequantizeQ1_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VI lane_bit = hn::Shl(hn::Set(di, 1), hn::Iota(di, 0));  // 1 << lane
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kQ1_0BlockBytes;
    const VF d = hn::Set(df, LoadHalf(block));
    const VF minus_d = hn::Neg(d);
    const uint8_t* qs = block + 2;
    const size_t base = static_cast<size_t>(b) * 128;
    for (size_t j = 0; j < 128; j += lanes) {
      // Bits j .. j + lanes - 1 in the low bits of `word`.
      uint32_t word;
      if (lanes >= 16) {
        word = static_cast<uint32_t>(qs[j / 8]) | (static_cast<uint32_t>(qs[j / 8 + 1]) << 8);
      } else {
        word = static_cast<uint32_t>(qs[j / 8]) >> (j % 8);
      }
      const auto is_set = hn::TestBit(hn::Set(di, static_cast<int32_t>(word)), lane_bit);
      out.Store(hn::IfThenElse(hn::RebindMask(df, is_set), d, minus_d), base + j);
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_Q1_0_INL_H_
