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
// One 16-byte table lookup (pshufb) maps 16 nibbles to their int8 values;
// they go through a small stack buffer to be widened Lanes(df) at a time.

// The codebooks are format constants (ggml's kvalues_iq4nl / kvalues_mxfp4).
alignas(16) inline constexpr int8_t kIq4nlTable[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                       1,    13,   25,  38,  53,  69,  89,  113};
alignas(16) inline constexpr int8_t kMxfp4Table[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                                       0, -1, -2, -3, -4, -6, -8, -12};

// Looks up the 32 nibbles of qs[0..15] in `table` and writes their int8
// values in element order to codes[0..31].
HWY_INLINE void LookUpNibbles(hn::Vec<hn::Full128<int8_t>> table, const uint8_t* qs,
                              int8_t* codes) {
  const hn::Full128<uint8_t> du8;
  const hn::Full128<int8_t> di8;
  const auto packed = hn::LoadU(du8, qs);
  const auto lo = hn::BitCast(di8, hn::And(packed, hn::Set(du8, 15)));
  const auto hi = hn::BitCast(di8, hn::ShiftRight<4>(packed));
  hn::Store(hn::TableLookupBytes(table, lo), di8, codes);
  hn::Store(hn::TableLookupBytes(table, hi), di8, codes + 16);
}

// y[i] = scale * codes[i] for i < 32 (float product, same in either order).
template <class Writer>
HWY_INLINE void ScaleCodes(const int8_t* codes, VF scale, Writer& out, size_t base) {
  const size_t lanes = hn::Lanes(DF());
  for (size_t i = 0; i < 32; i += lanes) {
    out.Store(hn::Mul(ToFloat(LoadI8AsI32(reinterpret_cast<const uint8_t*>(codes + i))), scale),
              base + i);
  }
}

template <class Writer>
HWY_INLINE void DequantizeIQ4_NL(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const auto table = hn::Load(hn::Full128<int8_t>(), kIq4nlTable);
  alignas(16) int8_t codes[32];
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 18;
    LookUpNibbles(table, block + 2, codes);
    ScaleCodes<Writer>(codes, HalfFactorVec(block), out,
                       static_cast<size_t>(b) * 32);
  }
}

template <class Writer>
HWY_INLINE void DequantizeIQ4_XS(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const auto table = hn::Load(hn::Full128<int8_t>(), kIq4nlTable);
  alignas(16) int8_t codes[32];
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 136;
    const float d = LoadHalfFactor(block);
    uint16_t scales_h;
    std::memcpy(&scales_h, block + 2, 2);
    const uint8_t* scales_l = block + 4;
    for (int ib = 0; ib < 8; ++ib) {
      const int ls =
          ((scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | (((scales_h >> (2 * ib)) & 3) << 4);
      LookUpNibbles(table, block + 8 + 16 * ib, codes);
      ScaleCodes<Writer>(codes, hn::Set(DF(), d * static_cast<float>(ls - 32)), out,
                         static_cast<size_t>(b) * 256 + 32 * static_cast<size_t>(ib));
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
  alignas(16) int8_t codes[32];
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 17;
    LookUpNibbles(table, block + 1, codes);
    ScaleCodes<Writer>(codes, hn::Set(DF(), E8M0Half(block[0])), out, static_cast<size_t>(b) * 32);
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_CODEBOOK_INL_H_
