// Per-group codec math shared by the CUDA kernels and their host-side tests.
//
// Every function here is compiled twice: by nvcc for the device (inside the
// kernels of cuda_codecs.cu) and by the host C++ compiler (tests/cuda/
// group_codecs_test.cc checks the host build against ggml's golden vectors and
// the scalar reference codecs, on machines without a GPU). Bit-exactness on
// both sides comes from the same source and the same flags: no FMA contraction
// (-ffp-contract=off on the host, -fmad=false on the device), IEEE division
// and square root (-prec-div=true -prec-sqrt=true), no flush-to-zero.
//
// The unit of work of every dequantizer is a "group" of 8 consecutive output
// elements: every block size we speak (32, 128, 256) is a multiple of 8, so a
// thread never straddles a block, and with a 16-byte aligned output every
// group starts on a 16-byte boundary (f32: 32 bytes, f16/bf16: 16 bytes).
//
// Block layouts (byte offsets; all multi-byte fields little-endian, loaded
// byte by byte because rows of 18-, 34- or 210-byte blocks start anywhere):
//   q8_0   34 B: [0..1] half d  [2..33] int8 qs[32]            y = qs * d
//   q4_0   18 B: [0..1] half d  [2..17] u8 qs[16]   elem i<16 low nibble of
//                qs[i], i+16 high nibble                        y = (q-8) * d
//   iq4_nl 18 B: as q4_0                                       y = d * kv[q]
//   mxfp4  17 B: [0] u8 e (E8M0)  [1..16] u8 qs[16] (as q4_0)   y = kv[q] * e/2
//   q1_0   18 B: [0..1] half d  [2..17] bits, elem j = bit j%8 of qs[j/8]
//                                                              y = bit ? d : -d
//   q4_K  144 B: [0..1] d [2..3] dmin [4..15] scales [16..143] qs[128]
//   q5_K  176 B: [0..1] d [2..3] dmin [4..15] scales [16..47] qh[32]
//                [48..175] qs[128]
//   q6_K  210 B: [0..127] ql [128..191] qh [192..207] int8 sc[16] [208..209] d
//   turbo2 34 B: [0..1] half norm [2..33] 2-bit indices, 4 per byte
//   turbo3 50 B: as turbo2, then [34..49] bit 2 of each index, 8 per byte
//   turbo4 66 B: [0..1] half norm [2..65] 4-bit indices, even element low
//   turbo4 v1 68 B: [0..1] norm [2..3] rnorm (written 0) [4..67] as above
// Formulas and evaluation order: the quants/ reference codecs (quants/turbo.h, block_*.h).
#ifndef GGUFKIT_KERNELS_CUDA_GROUP_CODECS_H_
#define GGUFKIT_KERNELS_CUDA_GROUP_CODECS_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define GGUFKIT_HD __host__ __device__ __forceinline__
#else
#define GGUFKIT_HD inline
#endif

#include "ggufkit/quants/output_type.h"
#include "ggufkit/quants/turbo.h"  // centroid and threshold tables (plain constexpr data)

#if defined(__CUDA_ARCH__)
#include <cuda_fp16.h>
#endif

// --use_fast_math would bring flush-to-zero and approximate division and
// square root: the results would no longer match the CPU reference.
#if defined(__USE_FAST_MATH__)
#error "kernels/cuda must not be compiled with --use_fast_math (bit-exactness)"
#endif

// Loops over the 8 elements of a group are fully unrolled on the device (the
// host compiler does the same at -O2 without being asked).
#if defined(__CUDA_ARCH__)
#define GGUFKIT_UNROLL _Pragma("unroll")
#else
#define GGUFKIT_UNROLL
#endif

namespace ggufkit::cuda::internal {

// Output element types: ggufkit::OutputType (quants/output_type.h).

// Output elements produced by one decoder call.
inline constexpr int kGroupElems = 8;
// Elements of one turbo block, one WHT group.
inline constexpr int kTurboGroup = 128;
// 1/sqrt(128) as the fork writes it (a float literal, rounded once).
inline constexpr float kWhtScale = 0.08838834764831845f;

// ---------------------------------------------------------------------------
// Bits, halves, bfloat16. Integer-only so the host build needs no F16C and the
// result cannot depend on rounding modes (same semantics as quants/half.h).
// ---------------------------------------------------------------------------
GGUFKIT_HD uint32_t BitsOf(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

GGUFKIT_HD float FloatOf(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

GGUFKIT_HD uint16_t LoadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

GGUFKIT_HD void StoreU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v & 0xFF);
  p[1] = static_cast<uint8_t>(v >> 8);
}

// binary16 -> float, exact. A subnormal half is mant * 2^-24: an integer below
// 2^10 times a power of two, so one float multiply is exact (no loop needed).
GGUFKIT_HD float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exp == 0x1Fu) return FloatOf(sign | 0x7F800000u | (mant << 13));
  if (exp != 0) return FloatOf(sign | ((exp + 112u) << 23) | (mant << 13));
  const float magnitude = static_cast<float>(mant) * 5.9604644775390625e-8f;  // 2^-24
  return FloatOf(sign | BitsOf(magnitude));
}

// float -> binary16, round to nearest even, subnormals kept, >= 65520 -> inf,
// NaN -> 0x7E00 with the input's sign (ggml's software converter).
GGUFKIT_HD uint16_t FloatToHalf(float f) {
#if defined(__CUDA_ARCH__)
  // cvt.rn.f16.f32 is IEEE round-to-nearest-even with subnormals and overflow
  // to inf; only NaN differs (it returns the canonical 0x7FFF), fixed here.
  if (f != f) return static_cast<uint16_t>(((BitsOf(f) >> 16) & 0x8000u) | 0x7E00u);
  return __half_as_ushort(__float2half_rn(f));
#else
  const uint32_t x = BitsOf(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7FFFFFFFu;
  if (ax > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);
  if (ax >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
  const uint32_t e = ax >> 23;
  if (e < 113) {
    if (e < 102) return static_cast<uint16_t>(sign);
    const uint32_t mant = (ax & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e;
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t h = ((e - 112) << 10) | ((ax & 0x7FFFFFu) >> 13);
  const uint32_t rem = ax & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
#endif
}

// float -> bfloat16, round to nearest even; NaN keeps its top bits, quiet bit set.
GGUFKIT_HD uint16_t FloatToBfloat16(float f) {
  const uint32_t x = BitsOf(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

// E8M0 scale of an MXFP4 block, halved: ggml stores the E2M1 values doubled as
// integers (kMxfp4Values), so it multiplies by 2^(e-127) / 2. e < 2 gives a
// float subnormal; e = 255 gives 2^127 like ggml (not NaN).
GGUFKIT_HD float E8M0ToFloatHalf(uint8_t e) {
  const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
  return FloatOf(bits);
}

// ---------------------------------------------------------------------------
// Lookup tables. The kernels stage them into shared memory (divergent lookups
// by the 32 lanes of a warp then cost one bank access each); host callers pass
// these arrays directly.
// ---------------------------------------------------------------------------
struct DecodeTable {
  float values[16];
};

inline constexpr DecodeTable kNoTable = {{0}};
// ggml's kvalues_iq4nl.
inline constexpr DecodeTable kIq4NlTable = {
    {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}};
// ggml's kvalues_mxfp4: E2M1 values times two.
inline constexpr DecodeTable kMxfp4Table = {
    {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12}};

// ---------------------------------------------------------------------------
// Dequantizers: Decode(block, group, table, out) writes the 8 elements
// [8 * group, 8 * group + 8) of `block`.
// ---------------------------------------------------------------------------
struct Q8_0Decoder {
  static constexpr int kBlockElems = 32;
  static constexpr int kBlockBytes = 34;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* /*table*/, float* out) {
    const float d = HalfToFloat(LoadU16(b));
    const uint8_t* qs = b + 2 + group * kGroupElems;
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) {
      out[k] = static_cast<float>(static_cast<int8_t>(qs[k])) * d;
    }
  }
};

// Elements i < 16 of a 32-block live in the low nibbles of bytes 0..15, the
// rest in the high nibbles: groups 0 and 1 read low nibbles, 2 and 3 high ones
// of the same bytes.
GGUFKIT_HD void Nibbles32(const uint8_t* qs, int group, int* q) {
  const int shift = group >= 2 ? 4 : 0;
  const uint8_t* p = qs + (group & 1) * kGroupElems;
  GGUFKIT_UNROLL
  for (int k = 0; k < kGroupElems; ++k) q[k] = (p[k] >> shift) & 0xF;
}

struct Q4_0Decoder {
  static constexpr int kBlockElems = 32;
  static constexpr int kBlockBytes = 18;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* /*table*/, float* out) {
    const float d = HalfToFloat(LoadU16(b));
    int q[kGroupElems];
    Nibbles32(b + 2, group, q);
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) out[k] = static_cast<float>(q[k] - 8) * d;
  }
};

struct Iq4NlDecoder {
  static constexpr int kBlockElems = 32;
  static constexpr int kBlockBytes = 18;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* table, float* out) {
    const float d = HalfToFloat(LoadU16(b));
    int q[kGroupElems];
    Nibbles32(b + 2, group, q);
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) out[k] = d * table[q[k]];
  }
};

struct Mxfp4Decoder {
  static constexpr int kBlockElems = 32;
  static constexpr int kBlockBytes = 17;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* table, float* out) {
    const float d = E8M0ToFloatHalf(b[0]);
    int q[kGroupElems];
    Nibbles32(b + 1, group, q);
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) out[k] = table[q[k]] * d;
  }
};

struct Q1_0Decoder {
  static constexpr int kBlockElems = 128;
  static constexpr int kBlockBytes = 18;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* /*table*/, float* out) {
    const float d = HalfToFloat(LoadU16(b));
    const float neg_d = -d;
    const uint8_t bits = b[2 + group];
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) out[k] = ((bits >> k) & 1) ? d : neg_d;
  }
};

// 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block.
GGUFKIT_HD void ScaleMinK4(const uint8_t* scales, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = scales[j] & 63;
    *m = scales[j + 4] & 63;
  } else {
    *sc = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
    *m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// Q4_K: 4 chunks of 64 = 32 low nibbles (sub-block 2c) + 32 high nibbles
// (sub-block 2c + 1) of the same 32 bytes. ggml forms d1 = d * sc and
// m1 = dmin * m once, then d1 * q - m1: two roundings before the subtraction.
struct Q4_KDecoder {
  static constexpr int kBlockElems = 256;
  static constexpr int kBlockBytes = 144;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* /*table*/, float* out) {
    const float d = HalfToFloat(LoadU16(b));
    const float dmin = HalfToFloat(LoadU16(b + 2));
    const int first = group * kGroupElems;
    const int chunk = first / 64;
    const int in_chunk = first % 64;
    const int high = in_chunk >= 32 ? 1 : 0;
    int sc, m;
    ScaleMinK4(b + 4, 2 * chunk + high, &sc, &m);
    const float d1 = d * static_cast<float>(sc);
    const float m1 = dmin * static_cast<float>(m);
    const uint8_t* qs = b + 16 + 32 * chunk + (in_chunk % 32);
    const int shift = 4 * high;
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) {
      const int q = (qs[k] >> shift) & 0xF;
      out[k] = d1 * static_cast<float>(q) - m1;
    }
  }
};

// Q5_K: as Q4_K plus a fifth bit: qh[l] bit 2c (low half of chunk c) or
// bit 2c + 1 (high half) adds 16.
struct Q5_KDecoder {
  static constexpr int kBlockElems = 256;
  static constexpr int kBlockBytes = 176;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* /*table*/, float* out) {
    const float d = HalfToFloat(LoadU16(b));
    const float dmin = HalfToFloat(LoadU16(b + 2));
    const int first = group * kGroupElems;
    const int chunk = first / 64;
    const int in_chunk = first % 64;
    const int high = in_chunk >= 32 ? 1 : 0;
    int sc, m;
    ScaleMinK4(b + 4, 2 * chunk + high, &sc, &m);
    const float d1 = d * static_cast<float>(sc);
    const float m1 = dmin * static_cast<float>(m);
    const int l0 = in_chunk % 32;
    const uint8_t* qh = b + 16 + l0;
    const uint8_t* ql = b + 48 + 32 * chunk + l0;
    const int shift = 4 * high;
    const int hbit = 2 * chunk + high;
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) {
      const int q = ((ql[k] >> shift) & 0xF) + (((qh[k] >> hbit) & 1) ? 16 : 0);
      out[k] = d1 * static_cast<float>(q) - m1;
    }
  }
};

// Q6_K: two halves of 128; quarter t of a half takes the low (t = 0, 1) or
// high (t = 2, 3) nibbles of ql[l] (t even) or ql[l + 32] (t odd) and bits
// 2t..2t+1 of qh[l]; scale index l / 16 + 2t. y = (d * sc) * (w - 32).
struct Q6_KDecoder {
  static constexpr int kBlockElems = 256;
  static constexpr int kBlockBytes = 210;
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* /*table*/, float* out) {
    const float d = HalfToFloat(LoadU16(b + 208));
    const int first = group * kGroupElems;
    const int half = first / 128;
    const int quarter = (first % 128) / 32;
    const int l0 = first % 32;
    const uint8_t* ql = b + 64 * half + l0 + ((quarter & 1) ? 32 : 0);
    const uint8_t* qh = b + 128 + 32 * half + l0;
    const int8_t sc = static_cast<int8_t>(b[192 + 8 * half + l0 / 16 + 2 * quarter]);
    const float dsc = d * static_cast<float>(sc);
    const int lshift = (quarter >= 2) ? 4 : 0;
    const int hshift = 2 * quarter;
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) {
      const int w = ((ql[k] >> lshift) & 0xF) | (((qh[k] >> hshift) & 3) << 4);
      out[k] = dsc * static_cast<float>(w - 32);
    }
  }
};

// Turbo blocks: y = centroid[idx] * norm, still in the rotated domain.
// kQsOffset is 2, or 4 for the v1 (May 2026) 68-byte turbo4 with its dead rnorm.
template <int kBits, int kBytes, int kQsOffset>
struct TurboDecoder {
  static constexpr int kBlockElems = kTurboGroup;
  static constexpr int kBlockBytes = kBytes;
  GGUFKIT_HD static int Index(const uint8_t* b, int j) {
    if (kBits == 4) return (b[kQsOffset + j / 2] >> (4 * (j % 2))) & 0xF;
    int idx = (b[kQsOffset + j / 4] >> (2 * (j % 4))) & 3;
    if (kBits == 3) idx |= ((b[kQsOffset + 32 + j / 8] >> (j % 8)) & 1) << 2;
    return idx;
  }
  GGUFKIT_HD static void Decode(const uint8_t* b, int group, const float* table, float* out) {
    const float norm = HalfToFloat(LoadU16(b));
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) out[k] = table[Index(b, group * kGroupElems + k)] * norm;
  }
};
using Turbo2Decoder = TurboDecoder<2, 34, 2>;
using Turbo3Decoder = TurboDecoder<3, 50, 2>;
using Turbo4Decoder = TurboDecoder<4, 66, 2>;
using Turbo4V1Decoder = TurboDecoder<4, 68, 4>;

// ---------------------------------------------------------------------------
// Quantizers for the KV cache: q8_0 and q4_0 (ggml's reference), one block per
// call, sequential like the reference because the running max and its NaN
// behaviour depend on the order.
// ---------------------------------------------------------------------------

// Float -> int8 as the x86 scalar conversion the CPU reference compiles to
// (cvttss2si, then the low byte): truncation toward zero; NaN and values
// outside int32 give 0x80000000, whose low byte is 0. Only reachable when a
// block's scale underflows so far that 1/d is infinite (max |x| < ~4e-37).
GGUFKIT_HD int8_t TruncateToInt8LikeX86(float v) {
  if (!(v >= -2147483648.0f && v < 2147483648.0f)) return 0;
  return static_cast<int8_t>(
      static_cast<uint8_t>(static_cast<uint32_t>(static_cast<int32_t>(v)) & 0xFFu));
}

GGUFKIT_HD void QuantizeBlockQ8_0(const float* x, uint8_t* block) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float a = fabsf(x[j]);
    amax = amax > a ? amax : a;  // ggml's MAX(amax, |v|): a NaN replaces amax
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  StoreU16(block, FloatToHalf(d));
  for (int j = 0; j < 32; ++j) {
    const float x0 = x[j] * id;
    block[2 + j] = static_cast<uint8_t>(TruncateToInt8LikeX86(roundf(x0)));
  }
}

GGUFKIT_HD void QuantizeBlockQ4_0(const float* x, uint8_t* block) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float a = fabsf(x[j]);
    if (amax < a) {
      amax = a;
      max = x[j];
    }
  }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  StoreU16(block, FloatToHalf(d));
  for (int j = 0; j < 16; ++j) {
    const float x0 = x[j] * id;
    const float x1 = x[16 + j] * id;
    const int q0 = TruncateToInt8LikeX86(x0 + 8.5f);
    const int q1 = TruncateToInt8LikeX86(x1 + 8.5f);
    // ggml: uint8_t xi = MIN(15, (int8_t)...); qs = xi0 | (xi1 << 4).
    const uint8_t xi0 = static_cast<uint8_t>(q0 < 15 ? q0 : 15);
    const uint8_t xi1 = static_cast<uint8_t>(q1 < 15 ? q1 : 15);
    block[2 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
  }
}

// ---------------------------------------------------------------------------
// TurboQuant: the rotation and the group quantizer, written for `n_lanes`
// cooperating lanes that share the scratch arrays. The device runs it with the
// 32 lanes of a warp (barrier = __syncwarp); the host tests run the very same
// code with one lane. Every butterfly output is a single add or subtract of
// the same two operands as in the reference, and all sums that need the
// reference's order (norms) are done sequentially, so the lane count cannot
// change a bit.
// ---------------------------------------------------------------------------

// Sign diagonals of the fork's rotation (seed 42), bit i % 32 of word i / 32
// set means -1.0 (generated from the golden manifest's s1 / s2 lists; the test
// checks them against formats.md).
struct TurboSigns {
  uint32_t s1[4];
  uint32_t s2[4];
};
inline constexpr TurboSigns kTurboSigns = {{0xE46A0359u, 0x42F85949u, 0xA4C63BBBu, 0x49F250A9u},
                                           {0x16ACEE90u, 0x3F628FDCu, 0xB7A5357Au, 0xBEA56562u}};

GGUFKIT_HD float SignOf(const uint32_t* bits, int i) {
  return ((bits[i / 32] >> (i % 32)) & 1u) ? -1.0f : 1.0f;
}

// Centroids and thresholds of one turbo type (index 0 = most negative).
struct TurboTables {
  int bits;             // 2, 3 or 4
  int block_bytes;      // 34, 50, 66 (68 for v1 turbo4)
  int qs_offset;        // 2 (4 for v1 turbo4)
  bool zero_when_tiny;  // turbo4: a group with norm <= 1e-10 is +0.0, not x * 0
  float centroids[16];
  float thresholds[15];  // n_centroids - 1, ascending
};

// The tables of quants/turbo.h (the reference's own arrays, so the two cannot
// drift apart), copied into the by-value struct the kernels take.
template <int kLevels>
constexpr TurboTables MakeTurboTables(int block_bytes, int qs_offset, bool zero_when_tiny,
                                      const float (&centroids)[kLevels],
                                      const float (&thresholds)[kLevels - 1]) {
  TurboTables t{kLevels == 4 ? 2 : kLevels == 8 ? 3 : 4, block_bytes, qs_offset, zero_when_tiny,
                {},  {}};
  for (int i = 0; i < kLevels; ++i) t.centroids[i] = centroids[i];
  for (int i = 0; i + 1 < kLevels; ++i) t.thresholds[i] = thresholds[i];
  return t;
}

inline constexpr TurboTables kTurbo2Tables =
    MakeTurboTables(34, 2, false, kTurbo2BitCentroids, kTurbo2BitThresholds);
inline constexpr TurboTables kTurbo3Tables =
    MakeTurboTables(50, 2, false, kTurbo3BitCentroids, kTurbo3BitThresholds);
inline constexpr TurboTables kTurbo4Tables =
    MakeTurboTables(66, 2, true, kTurbo4BitCentroids, kTurbo4BitThresholds);
// v1 (fork snapshot of May 2026): turbo2 as above.
inline constexpr TurboTables kTurbo3V1Tables =
    MakeTurboTables(50, 2, false, kTurbo3BitCentroidsV1, kTurbo3BitThresholdsV1);
inline constexpr TurboTables kTurbo4V1Tables =
    MakeTurboTables(68, 4, true, kTurbo4BitCentroidsV1, kTurbo4BitThresholdsV1);

// A barrier for the single-lane host run.
struct NoBarrier {
  GGUFKIT_HD void operator()() const {}
};

// In-place 128-point rotation of u: u *= first; butterflies h = 1..64;
// u *= (kWhtScale * second). Forward: first = s1, second = s2; the inverse
// swaps them (the fork's turbo_cpu_fwht_inverse).
template <class Barrier>
GGUFKIT_HD void Rotate128(float* u, const uint32_t* first, const uint32_t* second, int lane,
                          int n_lanes, Barrier barrier) {
  for (int i = lane; i < kTurboGroup; i += n_lanes) u[i] = u[i] * SignOf(first, i);
  barrier();
  for (int h = 1; h < kTurboGroup; h *= 2) {
    // Pair p of this stage: j = (p / h) * 2h + p % h, partner j + h. The 64
    // pairs of one stage are disjoint, so lanes may take them in any order.
    for (int p = lane; p < kTurboGroup / 2; p += n_lanes) {
      const int j = (p / h) * 2 * h + (p % h);
      const float a = u[j];
      const float b = u[j + h];
      u[j] = a + b;
      u[j + h] = a - b;
    }
    barrier();
  }
  for (int i = lane; i < kTurboGroup; i += n_lanes) {
    const float scale = kWhtScale * SignOf(second, i);
    u[i] = u[i] * scale;
  }
  barrier();
}

// First index whose threshold is strictly greater than v; a value equal to a
// threshold (and +-0.0 at threshold 0) takes the higher index; NaN the last.
GGUFKIT_HD int TurboIndex(const TurboTables& t, float v) {
  const int n = (1 << t.bits) - 1;
  for (int k = 0; k < n; ++k) {
    if (v < t.thresholds[k]) return k;
  }
  return n;
}

// Byte `i` of a turbo block (i >= qs_offset) from the 128 indices.
GGUFKIT_HD uint8_t TurboPackedByte(const TurboTables& t, const uint8_t* idx, int i) {
  const int q = i - t.qs_offset;
  if (t.bits == 4) return static_cast<uint8_t>((idx[2 * q] & 0xF) | ((idx[2 * q + 1] & 0xF) << 4));
  if (q < 32) {
    return static_cast<uint8_t>((idx[4 * q] & 3) | ((idx[4 * q + 1] & 3) << 2) |
                                ((idx[4 * q + 2] & 3) << 4) | ((idx[4 * q + 3] & 3) << 6));
  }
  const int h = q - 32;  // turbo3: bit 2 of indices 8h .. 8h + 7
  uint32_t byte = 0;
  for (int k = 0; k < 8; ++k) byte |= static_cast<uint32_t>((idx[8 * h + k] >> 2) & 1) << k;
  return static_cast<uint8_t>(byte);
}

// Quantizes one 128-group x into `block` (t.block_bytes bytes). `t` and
// `signs` are parameters rather than the constants above because device code
// cannot take the address of host constexpr data: kernels pass shared copies. Scratch: u[128]
// floats and idx[128] bytes shared by the lanes. Every lane computes the two
// sequential sums itself (broadcast reads), so no value has to be exchanged.
template <class Barrier>
GGUFKIT_HD void TurboQuantizeGroup(const TurboTables& t, const TurboSigns& signs, const float* x,
                                   uint8_t* block, float* u, uint8_t* idx, int lane, int n_lanes,
                                   Barrier barrier) {
  for (int i = lane; i < kTurboGroup; i += n_lanes) u[i] = x[i];
  barrier();
  float norm_sq = 0.0f;
  for (int i = 0; i < kTurboGroup; ++i) {
    const float sq = u[i] * u[i];
    norm_sq = norm_sq + sq;
  }
  const float grp_norm = sqrtf(norm_sq);
  barrier();  // everyone has read u before it is overwritten
  const bool big = grp_norm > 1e-10f;
  const float inv = big ? 1.0f / grp_norm : 0.0f;
  for (int i = lane; i < kTurboGroup; i += n_lanes) {
    u[i] = (t.zero_when_tiny && !big) ? 0.0f : u[i] * inv;
  }
  barrier();
  Rotate128(u, signs.s1, signs.s2, lane, n_lanes, barrier);
  for (int i = lane; i < kTurboGroup; i += n_lanes)
    idx[i] = static_cast<uint8_t>(TurboIndex(t, u[i]));
  barrier();
  float recon_sq = 0.0f;
  for (int i = 0; i < kTurboGroup; ++i) {
    const float c = t.centroids[idx[i]];
    const float sq = c * c;
    recon_sq = recon_sq + sq;
  }
  const float recon_norm = sqrtf(recon_sq);
  const float corrected = recon_norm > 1e-10f ? grp_norm / recon_norm : grp_norm;
  if (lane == 0) {
    StoreU16(block, FloatToHalf(corrected));
    if (t.qs_offset == 4) StoreU16(block + 2, 0);
  }
  for (int i = t.qs_offset + lane; i < t.block_bytes; i += n_lanes) {
    block[i] = TurboPackedByte(t, idx, i);
  }
  barrier();
}

}  // namespace ggufkit::cuda::internal

#endif  // GGUFKIT_KERNELS_CUDA_GROUP_CODECS_H_
