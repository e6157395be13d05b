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
#include <type_traits>

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

#if HWY_TARGET <= HWY_AVX3
// Q1_0 to misaligned cached f32 output (ShiftedF32Output, s = o.shift): the
// line at element 128 b + 16 t - s takes the 16 bits at that offset
// of the bit stream, straight into a mask register (vblendmps picks d or -d
// per lane). For t = 0 they straddle two blocks: the previous block's last s
// bits go to lanes i < s, with its own d. Aligned stores, no permute.
HWY_INLINE void DequantizeQ1_0Shifted(const uint8_t* blocks, int64_t n_blocks, float* out) {
  const DF df;
  const ShiftedF32Output o(out);
  const unsigned s = static_cast<unsigned>(o.shift);
  const __mmask16 low = o.low;
  const auto load16 = [](const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return static_cast<uint32_t>(v);
  };
  VF d_prev = hn::Zero(df);
  VF minus_prev = hn::Zero(df);
  uint32_t last_bits = 0;  // the previous block's bits 112 .. 127
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kQ1_0BlockBytes;
    const VF d = hn::Set(df, LoadHalf(block));
    const VF minus_d = hn::Neg(d);
    const uint8_t* qs = block + 2;
    float* line = o.base + static_cast<size_t>(b) * 128;
    const uint32_t first = load16(qs) << s;
    if (b == 0) {
      _mm512_mask_store_ps(line, o.high,
                           _mm512_mask_blend_ps(static_cast<__mmask16>(first), minus_d.raw, d.raw));
    } else {
      const __mmask16 bits = static_cast<__mmask16>(first | last_bits >> (16 - s));
      const __m512 dd = _mm512_mask_blend_ps(low, d.raw, d_prev.raw);
      const __m512 mm = _mm512_mask_blend_ps(low, minus_d.raw, minus_prev.raw);
      _mm512_store_ps(line, _mm512_mask_blend_ps(bits, mm, dd));
    }
    for (size_t t = 1; t < 8; ++t) {
      uint32_t word;
      std::memcpy(&word, qs + 2 * t - 2, 4);
      const __mmask16 bits = static_cast<__mmask16>(word >> (16 - s));
      _mm512_store_ps(line + 16 * t, _mm512_mask_blend_ps(bits, minus_d.raw, d.raw));
    }
    last_bits = load16(qs + 14);
    d_prev = d;
    minus_prev = minus_d;
  }
  if (n_blocks > 0) {
    const __mmask16 bits = static_cast<__mmask16>(last_bits >> (16 - s));
    _mm512_mask_store_ps(o.base + static_cast<size_t>(n_blocks) * 128, low,
                         _mm512_mask_blend_ps(bits, minus_prev.raw, d_prev.raw));
  }
}
#endif

template <class Writer>
HWY_INLINE void DequantizeQ1_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
#if HWY_TARGET <= HWY_AVX3
  if constexpr (std::is_same_v<Writer, RealignF32>) {
    if (ShiftedF32Output(out.ptr()).shift != 0) {
      DequantizeQ1_0Shifted(blocks, n_blocks, out.ptr());
      return;
    }
  }
#endif
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
