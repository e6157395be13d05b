// Q6_K SIMD dequantizer (per target). Format: quants/block_*.h and docs/types.md.

#if defined(GGUFKIT_DEQUANT_Q6_K_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_Q6_K_INL_H_
#undef GGUFKIT_DEQUANT_Q6_K_INL_H_
#else
#define GGUFKIT_DEQUANT_Q6_K_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/output-inl.h"
#include "ggufkit/quants/half.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// Q6_K, 210 bytes per 256 weights:
//   byte 0..127   u8 ql[128]      (low 4 bits of each 6-bit code)
//   byte 128..191 u8 qh[64]       (high 2 bits, four codes per byte)
//   byte 192..207 int8 scales[16] (one per 16 weights)
//   byte 208..209 half d
// Half h (128 weights) uses ql + 64h, qh + 32h, scales + 8h; for l < 32 and
// s = l / 16:
//   w[l]      = (ql[l] & 15)    | ((qh[l] >> 0) & 3) << 4, scale scales[s]
//   w[l + 32] = (ql[l+32] & 15) | ((qh[l] >> 2) & 3) << 4, scale scales[s + 2]
//   w[l + 64] = (ql[l] >> 4)    | ((qh[l] >> 4) & 3) << 4, scale scales[s + 4]
//   w[l + 96] = (ql[l+32] >> 4) | ((qh[l] >> 6) & 3) << 4, scale scales[s + 6]
// y = (d * scale) * (w - 32), the product d * scale rounded first as in ggml.
// A vector of at most 16 lanes never straddles two scales (16 | l boundaries).
inline constexpr size_t kQ6_KBlockBytes = 210;

using D8 = hn::Full128<uint8_t>;
using V8 = hn::Vec<D8>;

// Signed bytes kPart * Lanes(df) .. of the 16 in w, sign-extended to int32.
template <size_t kPart>
HWY_INLINE VI WidenI8Part(V8 w) {
  const DI di;
  const hn::Full128<int8_t> d8;
  const auto v = hn::BitCast(d8, w);
#if HWY_TARGET <= HWY_AVX3
  static_assert(kPart == 0, "16 lanes take all 16 bytes");
  return hn::PromoteTo(di, v);
#elif HWY_TARGET <= HWY_AVX2
  return hn::PromoteTo(di,
                       kPart == 0 ? hn::LowerHalf(v) : hn::UpperHalf(hn::Half<decltype(d8)>(), v));
#else
  return hn::PromoteTo(di, hn::LowerHalf(hn::LowerHalf(hn::ShiftRightBytes<4 * kPart>(d8, v))));
#endif
}

// Writes the 16 weights (codes - 32, signed bytes in w) times the scale
// product at out index o.
template <class Writer, size_t kPart = 0>
HWY_INLINE void StoreQ6_KGroup(V8 w, VF scale, Writer& out, size_t o) {
  const DF df;
  out.Store(hn::Mul(scale, ToFloat(WidenI8Part<kPart>(w))), o + kPart * hn::Lanes(df));
  if constexpr ((kPart + 1) * hn::MaxLanes(DF()) < 16) {
    StoreQ6_KGroup<Writer, kPart + 1>(w, scale, out, o);
  }
}

template <class Writer>
HWY_INLINE void DequantizeQ6_K(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const D8 d8;
  const size_t lanes = hn::Lanes(df);
  const V8 k15 = hn::Set(d8, 15);
  const V8 k48 = hn::Set(d8, 48);  // the two high bits, once shifted to bits 4..5
  const V8 k32 = hn::Set(d8, 32);
  // d * scales[i], decoded a batch of blocks ahead (as KQuantScaleBatch):
  // broadcasting a product just after the vector store that wrote it
  // stalled on store forwarding (0.46x memset in cache instead of 0.6x).
  constexpr int64_t kBatch = 8;
  alignas(64) float batch_products[kBatch][16];
  ScalesNoted(out);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kQ6_KBlockBytes;
    PrefetchInput<kQ6_KBlockBytes>(block);
    if (b % kBatch == 0) {
      const int64_t n = n_blocks - b < kBatch ? n_blocks - b : kBatch;
      for (int64_t k = 0; k < n; ++k) {
        const uint8_t* next = block + k * kQ6_KBlockBytes;
        NoteHalfScale(out, next + 208);
        const VF d = hn::Set(df, LoadHalfFactor(next + 208));
        for (size_t i = 0; i < 16; i += lanes) {
          hn::Store(hn::Mul(d, ToFloat(LoadI8AsI32(next + 192 + i))), df, batch_products[k] + i);
        }
      }
    }
    const float* products = batch_products[b % kBatch];
    const size_t base = static_cast<size_t>(b) * 256;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = block + 64 * h;
      const uint8_t* qh = block + 128 + 32 * h;
      const float* ds = products + 8 * h;
      const size_t out_h = base + 128 * static_cast<size_t>(h);
      // The codes are assembled 16 at a time in bytes, minus 32 as signed
      // bytes: w[s][k] holds weights 32k + 16s .. of the half, and the
      // stores go in element order (RealignF32 needs it).
      V8 w[2][4];
#if HWY_TARGET <= HWY_AVX2
      // Both 16-byte halves (s = 0, 1) at once in 256-bit byte vectors: half
      // the byte operations of two 128-bit passes.
      {
        const hn::Full256<uint8_t> d32;
        const auto k15w = hn::Set(d32, 15);
        const auto k48w = hn::Set(d32, 48);
        const auto k32w = hn::Set(d32, 32);
        const auto low_a = hn::LoadU(d32, ql);
        const auto low_b = hn::LoadU(d32, ql + 32);
        const auto high = hn::LoadU(d32, qh);
        const decltype(low_a) both[4] = {
            hn::Sub(hn::Or(hn::And(low_a, k15w), hn::And(hn::ShiftLeft<4>(high), k48w)), k32w),
            hn::Sub(hn::Or(hn::And(low_b, k15w), hn::And(hn::ShiftLeft<2>(high), k48w)), k32w),
            hn::Sub(hn::Or(hn::ShiftRight<4>(low_a), hn::And(high, k48w)), k32w),
            hn::Sub(hn::Or(hn::ShiftRight<4>(low_b), hn::And(hn::ShiftRight<2>(high), k48w)),
                    k32w)};
        for (size_t k = 0; k < 4; ++k) {
          w[0][k] = hn::LowerHalf(both[k]);
          w[1][k] = hn::UpperHalf(d8, both[k]);
        }
      }
      (void)k15;
      (void)k48;
      (void)k32;
#else
      for (size_t s = 0; s < 2; ++s) {
        const V8 low_a = hn::LoadU(d8, ql + 16 * s);
        const V8 low_b = hn::LoadU(d8, ql + 16 * s + 32);
        const V8 high = hn::LoadU(d8, qh + 16 * s);
        w[s][0] = hn::Or(hn::And(low_a, k15), hn::And(hn::ShiftLeft<4>(high), k48));
        w[s][1] = hn::Or(hn::And(low_b, k15), hn::And(hn::ShiftLeft<2>(high), k48));
        w[s][2] = hn::Or(hn::ShiftRight<4>(low_a), hn::And(high, k48));
        w[s][3] = hn::Or(hn::ShiftRight<4>(low_b), hn::And(hn::ShiftRight<2>(high), k48));
        for (size_t k = 0; k < 4; ++k) w[s][k] = hn::Sub(w[s][k], k32);
      }
#endif
      for (size_t k = 0; k < 4; ++k) {
        for (size_t s = 0; s < 2; ++s) {
          StoreQ6_KGroup<Writer>(w[s][k], hn::Set(df, ds[s + 2 * k]), out,
                                 out_h + 32 * k + 16 * s);
        }
      }
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_Q6_K_INL_H_
