// IQ4_NL, IQ4_XS, MXFP4 SIMD dequantizers (per target).

#if defined(GGUFKIT_DEQUANT_CODEBOOK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_CODEBOOK_INL_H_
#undef GGUFKIT_DEQUANT_CODEBOOK_INL_H_
#else
#define GGUFKIT_DEQUANT_CODEBOOK_INL_H_
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

// Formats whose 4-bit codes index a 16-entry table of small integers:
//   IQ4_NL, 18 bytes per 32:  half d; u8 qs[16]                y = d * kIq4nl[q]
//   IQ4_XS, 136 bytes per 256: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]
//     sub-block ib (32 weights, qs + 16 ib): ls = (scales_l[ib/2] >> 4(ib%2)) & 15
//     | ((scales_h >> 2ib) & 3) << 4; y = (d * (ls - 32)) * kIq4nl[q]
//   MXFP4, 17 bytes per 32:   u8 e (E8M0); u8 qs[16]           y = kMxfp4[q] * d,
//     d = 2^(e - 128) (half the E8M0 value, as ggml: its table is doubled)
// Element i < 16 is the low nibble of qs[i], element i + 16 the high nibble.
// One 16-byte table lookup (pshufb) maps 16 nibbles to their int8 values,
// which are widened to int32 in registers, Lanes(df) at a time (through a
// stack buffer instead, IQ4_NL and MXFP4 ran 8-10 % slower on AVX2 and
// 15 % on SSE4, in cache on an Intel Xeon; AVX3 the same).

// The codebooks are format constants (ggml's kvalues_iq4nl / kvalues_mxfp4).
alignas(16) inline constexpr int8_t kIq4nlTable[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                       1,    13,   25,  38,  53,  69,  89,  113};
alignas(16) inline constexpr int8_t kMxfp4Table[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                                       0, -1, -2, -3, -4, -6, -8, -12};

using V16I8 = hn::Vec<hn::Full128<int8_t>>;

// y = scale * codes[k] as output elements base + k, k < 16 (float product,
// same in either order).
template <class Writer>
HWY_INLINE void ScaleCodes16(V16I8 codes, VF scale, Writer& out, size_t base) {
  const DI di;
  const auto emit = [&](hn::Vec<hn::Rebind<int8_t, DI>> part, size_t at) HWY_ATTR {
    out.Store(hn::Mul(ToFloat(hn::PromoteTo(di, part)), scale), base + at);
  };
  constexpr size_t kLanes = hn::MaxLanes(DF());
  static_assert(kLanes == 16 || kLanes == 8 || kLanes == 4, "x86 vector widths");
  if constexpr (kLanes == 16) {
    emit(codes, 0);
  } else if constexpr (kLanes == 8) {
    const hn::Full64<int8_t> d8;
    emit(hn::LowerHalf(d8, codes), 0);
    emit(hn::UpperHalf(d8, codes), 8);
  } else {
    const hn::Full128<int8_t> d16;
    const auto quarter = [](V16I8 v) HWY_ATTR { return hn::LowerHalf(hn::LowerHalf(v)); };
    emit(quarter(codes), 0);
    emit(quarter(hn::ShiftRightBytes<4>(d16, codes)), 4);
    emit(quarter(hn::ShiftRightBytes<8>(d16, codes)), 8);
    emit(quarter(hn::ShiftRightBytes<12>(d16, codes)), 12);
  }
}

// Looks up the 32 nibbles of qs[0..15] in `table` and writes scale times
// their values as output elements base .. base + 31.
template <class Writer>
HWY_INLINE void LookUpAndScale(V16I8 table, const uint8_t* qs, VF scale, Writer& out, size_t base) {
  const hn::Full128<uint8_t> du8;
  const hn::Full128<int8_t> di8;
  const auto packed = hn::LoadU(du8, qs);
  const auto lo = hn::BitCast(di8, hn::And(packed, hn::Set(du8, 15)));
  const auto hi = hn::BitCast(di8, hn::ShiftRight<4>(packed));
  ScaleCodes16(hn::TableLookupBytes(table, lo), scale, out, base);
  ScaleCodes16(hn::TableLookupBytes(table, hi), scale, out, base + 16);
}

template <class Writer>
HWY_INLINE void DequantizeIQ4_NL(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const auto table = hn::Load(hn::Full128<int8_t>(), kIq4nlTable);
  ScalesNoted(out);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 18;
    NoteHalfScale(out, block);
    LookUpAndScale(table, block + 2, HalfFactorVec(block), out, static_cast<size_t>(b) * 32);
  }
}

// IQ4_XS's 8 sub-block scales d * (ls - 32) into scales[0..7] (the same
// float product as one at a time): ls's low nibble sits at bit 4 ib of the
// u32 scales_l, its high two bits at bit 2 ib of scales_h.
HWY_INLINE void IQ4XSScales(const uint8_t* block, float* scales) {
  uint16_t scales_h;
  uint32_t scales_l;
  std::memcpy(&scales_h, block + 2, 2);
  std::memcpy(&scales_l, block + 4, 4);
  const float d = LoadHalfFactor(block);
#if HWY_TARGET <= HWY_AVX2
  const hn::Full256<int32_t> di;
  const hn::Full256<float> df;
  const auto ib = hn::Iota(di, 0);
  const auto low = hn::And(
      hn::Shr(hn::Set(di, static_cast<int32_t>(scales_l)), hn::ShiftLeft<2>(ib)), hn::Set(di, 15));
  const auto high = hn::And(hn::Shr(hn::Set(di, scales_h), hn::Add(ib, ib)), hn::Set(di, 3));
  const auto ls = hn::Or(low, hn::ShiftLeft<4>(high));
  hn::Store(hn::Mul(hn::Set(df, d), hn::ConvertTo(df, hn::Sub(ls, hn::Set(di, 32)))), df, scales);
#else
  for (int ib = 0; ib < 8; ++ib) {
    const int ls =
        static_cast<int>(((scales_l >> (4 * ib)) & 15) | (((scales_h >> (2 * ib)) & 3) << 4));
    scales[ib] = d * static_cast<float>(ls - 32);
  }
#endif
}

template <class Writer>
HWY_INLINE void DequantizeIQ4_XS(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const auto table = hn::Load(hn::Full128<int8_t>(), kIq4nlTable);
  alignas(32) float scales[8];
  ScalesNoted(out);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 136;
    NoteHalfScale(out, block);
    IQ4XSScales(block, scales);
    for (size_t k = 0; k < 8; ++k) {
      LookUpAndScale(table, block + 8 + 16 * k, hn::Set(DF(), scales[k]), out,
                     static_cast<size_t>(b) * 256 + 32 * k);
    }
  }
}

// Half of the E8M0 scale 2^(e - 127), built from bits (exact; e < 2 gives
// a float subnormal).
HWY_INLINE float E8M0Half(uint8_t e) {
  return BitsToFloat(e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e) - 1) << 23);
}

template <class Writer>
HWY_INLINE void DequantizeMXFP4(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const auto table = hn::Load(hn::Full128<int8_t>(), kMxfp4Table);
  ScalesNoted(out);  // a finite scale for every E8M0 byte: never a NaN
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 17;
    LookUpAndScale(table, block + 1, hn::Set(DF(), E8M0Half(block[0])), out,
                   static_cast<size_t>(b) * 32);
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_CODEBOOK_INL_H_
