// The K-quant formats: 256-weight super-blocks split into sub-blocks of 16 or
// 32 weights, each with its own small integer scale (and min), themselves
// scaled by one or two fp16 super-block factors.
//
// All multi-byte fields little-endian; `half` is IEEE binary16. Structs are
// byte images; codecs memcpy one block into a local (no alignment needed).
//
// Evaluation order (bit-exactness with ggml): the formulas below are exact
// about parentheses. Every product and difference is rounded separately (no
// FMA: build with -ffp-contract=off). Integer codes and scales are converted
// to float exactly before use.
//
// Importance matrix (imatrix, one weight per column of the row): where ggml
// accepts one (Q2_K..Q6_K), the quantizer weights each element's squared
// error by imatrix[j] * sqrt(sigma2 + x[j]^2) (Q2_K: sigma2 = mean x^2 of the
// super-block; Q3_K, Q4_K, Q5_K: 2 * mean x^2; Q6_K uses imatrix[j] alone),
// fits sub-block scales/mins with that weighted least squares and then fits
// the 6-bit (4-bit for Q2_K) sub-block scale codes themselves with weights
// = the sum of their sub-block's element weights. Without an imatrix, ggml's
// reference ("_ref") search is used: that path is what reproduces ggml's
// bytes, and it is what golden tests pin.
#ifndef GGUFKIT_QUANTS_BLOCK_K_H_
#define GGUFKIT_QUANTS_BLOCK_K_H_

#include <cstddef>
#include <cstdint>

#include "ggufkit/quants/block_fields.h"

namespace ggufkit {

inline constexpr int kSuperBlockSize = 256;  // ggml's QK_K

// Q2_K (id 10): 256 weights, 84 bytes, 2.625 bits per weight.
//
//   byte 0            16                         80    82    84
//        +-------------+--------------------------+-----+-----+
//        | scales[16]  | qs[64]                   |  d  | dmin|
//        +-------------+--------------------------+-----+-----+
//   scales[s] = m:sc (high nibble = 4-bit min code, low = 4-bit scale code)
//   of sub-block s (16 weights each).
//   Element e = 128h + 32j + r (half h, j 0..3, r 0..31): 2-bit code
//   q = (qs[32h + r] >> 2j) & 3, sub-block s = 8h + 2j + r/16.
//
//   y = (d * sc[s]) * q - (dmin * m[s])
//
// Quantizer (ggml quantize_row_q2_K_ref): per sub-block an asymmetric fit
// (make_qkx2_quants, nmax 3, weights |x|, mean absolute error, 16 scales
// from rmin -0.5 in steps of 0.1), then scales and mins each coded to 4 bits
// against their maxima (d = max_scale / 15, dmin = max_min / 15), then the
// codes re-fitted to the stored (d * sc, dmin * m).
struct BlockQ2_K {
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d;     // half: super-block scale of the scale codes
  uint16_t dmin;  // half: super-block scale of the min codes
};
static_assert(sizeof(BlockQ2_K) == 84, "Q2_K block is 84 bytes");
inline constexpr BlockField kBlockQ2_KFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockQ2_K, scales, 16, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ2_K, qs, 64, kBytes), GGUFKIT_BLOCK_FIELD(BlockQ2_K, d, 1, kFp16),
    GGUFKIT_BLOCK_FIELD(BlockQ2_K, dmin, 1, kFp16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ2_KFields, BlockQ2_K);

// Q3_K (id 11): 256 weights, 110 bytes, 3.4375 bits per weight.
//
//   byte 0          32                  96          108   110
//        +-----------+-------------------+------------+-----+
//        | hmask[32] | qs[64]            | scales[12] |  d  |
//        +-----------+-------------------+------------+-----+
//   Element e = 128h + 32j + r: low 2 bits (qs[32h + r] >> 2j) & 3, high bit
//   (hmask[r] >> (4h + j)) & 1; sub-block s = 8h + 2j + r/16 (16 x 16).
//   6-bit scale code of sub-block s (0..63):
//     low 4 bits  = s < 8 ? scales[s] & 15 : scales[s - 8] >> 4
//     high 2 bits = (scales[8 + s % 4] >> (2 * (s / 4))) & 3
//
//   y = (d * (sc[s] - 32)) * (low2 - (high ? 0 : 4))     level in -4..3
//
// Quantizer: per sub-block a symmetric fit (make_q3_quants, nmax 4, with
// coordinate-descent refinement weighted by x^2); the 16 scales coded to
// 6 bits signed against the one of largest magnitude (d = max / -32), then
// the weights re-fitted to the stored scales.
struct BlockQ3_K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d;  // half
};
static_assert(sizeof(BlockQ3_K) == 110, "Q3_K block is 110 bytes");
inline constexpr BlockField kBlockQ3_KFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockQ3_K, hmask, 32, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ3_K, qs, 64, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ3_K, scales, 12, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ3_K, d, 1, kFp16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ3_KFields, BlockQ3_K);

// Q4_K (id 12): 256 weights, 144 bytes, 4.5 bits per weight.
//
//   byte 0     2     4            16                                 144
//        +-----+-----+------------+----------------------------------+
//        |  d  | dmin| scales[12] | qs[128]                          |
//        +-----+-----+------------+----------------------------------+
//   8 sub-blocks of 32; 6-bit scale sc and min m of sub-block s:
//     s < 4:  sc = scales[s] & 63,  m = scales[s + 4] & 63
//     s >= 4: sc = (scales[s + 4] & 15) | ((scales[s - 4] >> 6) << 4)
//             m  = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4)
//   Element e = 64c + r (chunk c 0..3): r < 32: low nibble of qs[32c + r],
//   sub-block 2c; r >= 32: high nibble of qs[32c + r - 32], sub-block 2c + 1.
//
//   y = (d * sc) * q - (dmin * m)       q in 0..15
//
// Quantizer: per sub-block make_qkx2_quants (nmax 15, weights
// sqrt(mean x^2) + |x|, squared error, 21 scales from rmin -1 in steps 0.1);
// scales and mins coded to 6 bits against their maxima (d = max_scale / 63,
// dmin = max_min / 63); codes re-fitted to the stored values.
struct BlockQ4_K {
  uint16_t d;     // half
  uint16_t dmin;  // half
  uint8_t scales[12];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block is 144 bytes");
inline constexpr BlockField kBlockQ4_KFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockQ4_K, d, 1, kFp16), GGUFKIT_BLOCK_FIELD(BlockQ4_K, dmin, 1, kFp16),
    GGUFKIT_BLOCK_FIELD(BlockQ4_K, scales, 12, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ4_K, qs, 128, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ4_KFields, BlockQ4_K);

// Q5_K (id 13): 256 weights, 176 bytes, 5.5 bits per weight.
//
//   byte 0     2     4            16          48                     176
//        +-----+-----+------------+-----------+----------------------+
//        |  d  | dmin| scales[12] | qh[32]    | qs[128]              |
//        +-----+-----+------------+-----------+----------------------+
//   scales as Q4_K; element e = 64c + r: low 4 bits as Q4_K, bit 4 =
//   (qh[r % 32] >> (2c + (r >= 32))) & 1.
//
//   y = (d * sc) * q - (dmin * m)       q in 0..31
//
// Quantizer: as Q4_K with nmax 31 and 16 scales from rmin -0.5 in steps 0.1.
struct BlockQ5_K {
  uint16_t d;     // half
  uint16_t dmin;  // half
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block is 176 bytes");
inline constexpr BlockField kBlockQ5_KFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockQ5_K, d, 1, kFp16), GGUFKIT_BLOCK_FIELD(BlockQ5_K, dmin, 1, kFp16),
    GGUFKIT_BLOCK_FIELD(BlockQ5_K, scales, 12, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ5_K, qh, 32, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ5_K, qs, 128, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ5_KFields, BlockQ5_K);

// Q6_K (id 14): 256 weights, 210 bytes, 6.5625 bits per weight.
//
//   byte 0                    128          192          208   210
//        +---------------------+------------+------------+-----+
//        | ql[128]             | qh[64]     | scales[16] |  d  |
//        +---------------------+------------+------------+-----+
//   scales are int8 (one per 16 weights). Half h (0, 1) uses ql + 64h,
//   qh + 32h, scales + 8h; for l in 0..31, s = l / 16:
//     w[l]      = (ql[l] & 15)      | ((qh[l] >> 0) & 3) << 4   scale s
//     w[l + 32] = (ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4   scale s + 2
//     w[l + 64] = (ql[l] >> 4)      | ((qh[l] >> 4) & 3) << 4   scale s + 4
//     w[l + 96] = (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4   scale s + 6
//
//   y = (d * scale) * (w - 32)
//
// Quantizer: per 16 weights make_qx_quants (nmax 32, rmse_type 1: weights
// x^2, 19 candidate scales); the 16 scales coded to int8 against the one of
// largest magnitude (d = max / -128); weights re-fitted. An all-zero
// super-block is stored as zeros.
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;  // half
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block is 210 bytes");
inline constexpr BlockField kBlockQ6_KFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockQ6_K, ql, 128, kBytes), GGUFKIT_BLOCK_FIELD(BlockQ6_K, qh, 64, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ6_K, scales, 16, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockQ6_K, d, 1, kFp16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ6_KFields, BlockQ6_K);

// Q8_K (id 15): 256 weights, 292 bytes, 9.125 bits per weight. ggml's
// intermediate format for K-quant dot products (never stored by its tools).
//
//   byte 0      4                              260             292
//        +------+-------------------------------+---------------+
//        | d f32| qs[256] int8                  | bsums[16] i16 |
//        +------+-------------------------------+---------------+
//
//   y = d * qs[e]                      (d is a float here, not a half)
//   bsums[k] = sum of qs[16k .. 16k + 15] (dot-product helper, not used).
//
// Quantizer: max = element of largest magnitude; iscale = -127 / max;
// qs = min(127, nearest(iscale * x)); d = 1 / iscale. No imatrix.
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block is 292 bytes");
inline constexpr BlockField kBlockQ8_KFields[] = {GGUFKIT_BLOCK_FIELD(BlockQ8_K, d, 1, kF32),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ8_K, qs, 256, kBytes),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ8_K, bsums, 16, kI16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ8_KFields, BlockQ8_K);

namespace internal {

void DequantizeRowQ2_K(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ3_K(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ4_K(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ5_K(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ6_K(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ8_K(const uint8_t* blocks, float* out, int64_t n);

// With an importance matrix, x is one row of n elements, imatrix its weights.
void QuantizeRowQ2_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ3_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ4_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ5_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ6_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ8_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

// 6-bit scale and min of sub-block s (0..7) of a Q4_K / Q5_K block.
inline void UnpackScaleMinK4(int s, const uint8_t* scales, uint8_t* sc, uint8_t* m) {
  if (s < 4) {
    *sc = scales[s] & 63;
    *m = scales[s + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((scales[s + 4] & 0xF) | ((scales[s - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
  }
}

// 6-bit scale code (0..63, bias 32) of sub-block s (0..15) of a Q3_K block.
inline int UnpackScaleQ3K(int s, const uint8_t* scales) {
  const int low = s < 8 ? scales[s] & 0xF : scales[s - 8] >> 4;
  const int high = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
  return low | (high << 4);
}

}  // namespace internal
}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_K_H_
