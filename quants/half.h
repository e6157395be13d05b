// IEEE binary16 and bfloat16 <-> binary32 conversions, scalar and exact.
//
// These are the conversions ggml's reference code uses (and that the golden
// vectors were made with):
//  - f16 -> f32 and bf16 -> f32 are exact (every half is a float).
//  - f32 -> f16 rounds to nearest even, keeps subnormals, overflows (|x| >=
//    65520) to +-inf, and turns every NaN into the quiet NaN 0x7E00 with the
//    input's sign (what ggml's software converter and F16C both produce for
//    the inputs ggml feeds them).
//  - f32 -> bf16 rounds to nearest even; a NaN keeps its upper 16 bits with
//    the quiet bit (0x0040) forced on. Subnormals are kept, not flushed.
// Written with integer arithmetic only, so the result cannot depend on the
// FPU rounding mode, FMA contraction or the SIMD target.
#ifndef GGUFKIT_QUANTS_HALF_H_
#define GGUFKIT_QUANTS_HALF_H_

#include <cstdint>
#include <cstring>

namespace ggufkit {

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float BitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// binary16 bits -> float, exact.
inline float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) return BitsToFloat(sign | 0x7F800000u | (mant << 13));  // inf/NaN
  if (exp != 0) return BitsToFloat(sign | ((exp + 112u) << 23) | (mant << 13));
  if (mant == 0) return BitsToFloat(sign);  // +-0
  // Subnormal half: normalise. Value = mant * 2^-24.
  uint32_t e = 113;  // exponent of 2^-14 is 127 - 14 = 113
  while ((mant & 0x400u) == 0) {
    mant <<= 1;
    --e;
  }
  return BitsToFloat(sign | (e << 23) | ((mant & 0x3FFu) << 13));
}

// float -> binary16 bits, round to nearest even.
inline uint16_t F32ToF16(float f) {
  const uint32_t x = FloatBits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7FFFFFFFu;
  if (ax > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);  // NaN
  if (ax >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520 -> inf
  const uint32_t e = ax >> 23;
  if (e < 113) {
    // Result is a half subnormal (or zero): count units of 2^-24.
    if (e < 102) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to 0
    const uint32_t mant = (ax & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14..24
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t h = ((e - 112) << 10) | ((ax & 0x7FFFFFu) >> 13);
  const uint32_t rem = ax & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry may bump the exponent
  return static_cast<uint16_t>(sign | h);
}

// bfloat16 bits -> float, exact.
inline float BF16ToF32(uint16_t b) { return BitsToFloat(static_cast<uint32_t>(b) << 16); }

// float -> bfloat16 bits, round to nearest even (ggml's reference rounding).
inline uint16_t F32ToBF16(float f) {
  const uint32_t x = FloatBits(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_HALF_H_
