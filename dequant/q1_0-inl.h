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
    PrefetchInput<kQ1_0BlockBytes>(block);
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

#if HWY_TARGET == HWY_AVX2
// Q1_0 to streamed f32 output that is 4-byte but not 32-byte aligned, on
// AVX2 (StreamRealign's case): every vector is built at the aligned
// position, so no realigning permute. The output starts s elements (1..7)
// past the aligned `base`; the vector at element 128 b + 8 t - s tests, in
// lane i, bit i + 8 - s of the 32-bit word at qs + t - 1 (for t = 14 and
// 15: bit i + 16 - s and i + 24 - s of the word at qs + 12, so that no
// load leaves the block), broadcast from memory (a load, where the generic
// kernel's broadcast of a computed word and StreamRealign's permute each
// took port 5). At t = 0 the word is the previous block's last byte, then
// this block's first two bytes: lanes i < s take the previous block's d.
// StreamRealign's permute and blend left this kernel, the fastest, at
// 0.54-0.93x aligned out of cache (64 MiB) on an Intel Xeon, against
// 0.99-1.04 on AVX3. The first partial vector and the last one go out as
// cached stores through a local copy, as in StreamRealign.
HWY_INLINE void DequantizeQ1_0StreamShiftedAvx2(const uint8_t* blocks, int64_t n_blocks,
                                                float* out) {
  const DF df;
  const DI di;
  const ShiftedF32Output o(out);
  const size_t s = o.shift;
  const auto low = hn::FirstN(df, s);
  // 1 << (lane + first_bit).
  const auto lane_bits = [&](size_t first_bit) HWY_ATTR {
    return hn::Shl(hn::Set(di, 1),
                   hn::Add(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(first_bit))));
  };
  const VI bits_t = lane_bits(8 - s);
  const VI bits_14 = lane_bits(16 - s);
  const VI bits_15 = lane_bits(24 - s);
  // As the generic kernel below: lane i is d where its bit is set, else -d.
  const auto select = [&](VI word, VI bits, VF d, VF minus_d) HWY_ATTR {
    return hn::IfThenElse(hn::RebindMask(df, hn::TestBit(word, bits)), d, minus_d);
  };
  // The 4 bytes at p in every lane: a broadcast load, no shuffle.
  const auto word_at = [](const uint8_t* p) HWY_ATTR {
    return VI{_mm256_castps_si256(_mm256_broadcast_ss(reinterpret_cast<const float*>(p)))};
  };
  VF d_prev = hn::Zero(df);
  VF minus_prev = hn::Zero(df);
  uint32_t last_byte = 0;  // the previous block's qs[15]
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kQ1_0BlockBytes;
    PrefetchInput<kQ1_0BlockBytes>(block);
    const VF d = hn::Set(df, LoadHalf(block));
    const VF minus_d = hn::Neg(d);
    const uint8_t* qs = block + 2;
    float* line = o.base + b * 128;
    const VI first_word =
        hn::Set(di, static_cast<int32_t>(last_byte | uint32_t{qs[0]} << 8 | uint32_t{qs[1]} << 16));
    const VF first = select(first_word, bits_t, hn::IfThenElse(low, d_prev, d),
                            hn::IfThenElse(low, minus_prev, minus_d));
    if (b == 0) {
      alignas(32) float head[8];
      hn::Store(first, df, head);
      std::memcpy(out, head + s, (8 - s) * sizeof(float));
    } else {
      hn::Stream(first, df, line);
    }
    for (size_t t = 1; t < 14; ++t) {
      hn::Stream(select(word_at(qs + t - 1), bits_t, d, minus_d), df, line + 8 * t);
    }
    hn::Stream(select(word_at(qs + 12), bits_14, d, minus_d), df, line + 112);
    hn::Stream(select(word_at(qs + 12), bits_15, d, minus_d), df, line + 120);
    last_byte = qs[15];
    d_prev = d;
    minus_prev = minus_d;
  }
  if (n_blocks > 0) {
    // Lanes i < s of the vector at 128 n_blocks - s.
    alignas(32) float tail[8];
    hn::Store(select(hn::Set(di, static_cast<int32_t>(last_byte)), bits_t, d_prev, minus_prev), df,
              tail);
    std::memcpy(o.base + n_blocks * 128, tail, s * sizeof(float));
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
#if HWY_TARGET == HWY_AVX2
  if constexpr (std::is_same_v<Writer, StreamRealign<4>>) {
    float* const f32 = static_cast<float*>(out.ptr());
    if (ShiftedF32Output(f32).shift != 0) {
      DequantizeQ1_0StreamShiftedAvx2(blocks, n_blocks, f32);
      return;
    }
  }
#endif
  const VI lane_bit = hn::Shl(hn::Set(di, 1), hn::Iota(di, 0));  // 1 << lane
  ScalesNoted(out);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kQ1_0BlockBytes;
    PrefetchInput<kQ1_0BlockBytes>(block);
    NoteHalfScale(out, block);
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
