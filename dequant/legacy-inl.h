// Q4_0, Q4_1, Q5_0, Q5_1 SIMD dequantizers (per target).

#if defined(GGUFKIT_DEQUANT_LEGACY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_LEGACY_INL_H_
#undef GGUFKIT_DEQUANT_LEGACY_INL_H_
#else
#define GGUFKIT_DEQUANT_LEGACY_INL_H_
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

// The legacy 32-weight formats, element i < 16 in the low nibble of qs[i] and
// element i + 16 in its high nibble:
//   Q4_0, 18 bytes: half d;          u8 qs[16]            y = (q - 8) * d
//   Q4_1, 20 bytes: half d; half m;  u8 qs[16]            y = q * d + m
//   Q5_0, 22 bytes: half d;          u8 qh[4]; u8 qs[16]  y = (q - 16) * d
//   Q5_1, 24 bytes: half d; half m;  u8 qh[4]; u8 qs[16]  y = q * d + m
// In Q5_*, bit k of the little-endian u32 qh is bit 4 of element k.
// Integer offsets are applied before the conversion (exact), so each output
// is one rounded product (plus one rounded sum for the _1 forms), as in ggml.

template <class Writer, bool kHasMin, bool kHasHighBits>
HWY_INLINE void DequantizeLegacy(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  constexpr size_t kBlockBytes = 2 + (kHasMin ? 2 : 0) + (kHasHighBits ? 4 : 0) + 16;
  // Codes without a min are centred: 8 for 4-bit, 16 for 5-bit.
  const VI offset = hn::Set(di, kHasMin ? 0 : (kHasHighBits ? 16 : 8));
  const VI k15 = hn::Set(di, 15);
  const VI k1 = hn::Set(di, 1);
#if HWY_TARGET <= HWY_AVX3
  // 16 lanes, one vector per half block. Per block, a table holds the
  // output of every code (codes 0..15 in t0, 16..31 in t1), computed with the
  // ops and roundings of the formula above; each output vector is then one
  // permute (vpermps reads index bits 3..0, so the low nibble needs no mask),
  // and for Q5_* a second, masked by qh, from t1.
  (void)lanes;
  (void)k15;
  (void)k1;
  const VF code0 = ToFloat(hn::Sub(hn::Iota(di, 0), offset));
  const VF code1 = ToFloat(hn::Sub(hn::Iota(di, 16), offset));
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kBlockBytes;
    const VF d = hn::Set(df, LoadHalfFactor(block));
    const uint8_t* p = block + (kHasMin ? 4 : 2);
    VF t0 = hn::Mul(code0, d);
    VF t1 = hn::Mul(code1, d);
    if (kHasMin) {
      const VF m = hn::Set(df, LoadHalfFactor(block + 2));
      t0 = hn::Add(t0, m);
      t1 = hn::Add(t1, m);
    }
    uint32_t qh = 0;
    if (kHasHighBits) {
      std::memcpy(&qh, p, 4);
      p += 4;
    }
    const VI q = LoadU8AsI32(p);
    const VI q_hi = hn::ShiftRight<4>(q);
    VF lo{_mm512_permutexvar_ps(q.raw, t0.raw)};
    VF hi{_mm512_permutexvar_ps(q_hi.raw, t0.raw)};
    if (kHasHighBits) {
      lo = VF{_mm512_mask_permutexvar_ps(lo.raw, static_cast<__mmask16>(qh), q.raw, t1.raw)};
      hi = VF{
          _mm512_mask_permutexvar_ps(hi.raw, static_cast<__mmask16>(qh >> 16), q_hi.raw, t1.raw)};
    }
    const size_t base = static_cast<size_t>(b) * 32;
    out.Store(lo, base);
    out.Store(hi, base + 16);
  }
#else
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kBlockBytes;
    const VF d = hn::Set(df, LoadHalfFactor(block));
    const VF m = hn::Set(df, kHasMin ? LoadHalfFactor(block + 2) : 0.0f);
    const uint8_t* p = block + (kHasMin ? 4 : 2);
    uint32_t qh = 0;
    if (kHasHighBits) {
      std::memcpy(&qh, p, 4);
      p += 4;
    }
    const VI high_bits = hn::Set(di, static_cast<int32_t>(qh));
    const size_t base = static_cast<size_t>(b) * 32;
    for (size_t i = 0; i < 16; i += lanes) {
      const VI q = LoadU8AsI32(p + i);
      VI lo = hn::And(q, k15);
      VI hi = hn::ShiftRight<4>(q);
      if (kHasHighBits) {
        const VI lane = hn::Iota(di, static_cast<int32_t>(i));
        lo = hn::Or(lo, hn::ShiftLeft<4>(hn::And(hn::Shr(high_bits, lane), k1)));
        hi = hn::Or(
            hi, hn::ShiftLeft<4>(hn::And(hn::Shr(high_bits, hn::Add(lane, hn::Set(di, 16))), k1)));
      }
      if (kHasMin) {
        out.Store(hn::Add(hn::Mul(ToFloat(lo), d), m), base + i);
        out.Store(hn::Add(hn::Mul(ToFloat(hi), d), m), base + 16 + i);
      } else {
        out.Store(hn::Mul(ToFloat(hn::Sub(lo, offset)), d), base + i);
        out.Store(hn::Mul(ToFloat(hn::Sub(hi, offset)), d), base + 16 + i);
      }
    }
  }
#endif
}

template <class Writer>
HWY_INLINE void DequantizeQ4_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, false, false>(blocks, n_blocks, out);
}
template <class Writer>
HWY_INLINE void DequantizeQ4_1(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, true, false>(blocks, n_blocks, out);
}
template <class Writer>
HWY_INLINE void DequantizeQ5_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, false, true>(blocks, n_blocks, out);
}
template <class Writer>
HWY_INLINE void DequantizeQ5_1(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, true, true>(blocks, n_blocks, out);
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_LEGACY_INL_H_
