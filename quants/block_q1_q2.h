// Q1_0 (ggml id 41) and Q2_0 (id 42): one fp16 scale per block and 1 or 2
// bits per weight, no minimum. Q1_0 is the format of the Bonsai 1-bit models.
#ifndef GGUFKIT_QUANTS_BLOCK_Q1_Q2_H_
#define GGUFKIT_QUANTS_BLOCK_Q1_Q2_H_

#include <cstddef>
#include <cstdint>

#include "ggufkit/quants/block_fields.h"

namespace ggufkit {

// Q1_0 — 128 weights in 18 bytes, 1.125 bits/weight.
//
//   byte  0      1      2 .................................... 17
//        +------+------+-------+-------+-----------+-------+
//        |   d (half)  | qs[0] | qs[1] |    ...    | qs[15]|
//        +------+------+-------+-------+-----------+-------+
//   qs[k] bit b (LSB = bit 0) holds weight j = 8k + b.
//
//   y[j] = bit ? d : -d            (d = float(half d); no zero level)
//
// Reference quantizer (ggml's quantize_row_q1_0_ref): d = (sum |x_j| over the
// block, accumulated in order in fp32) / 128, stored as half (round to
// nearest even); bit j = (x_j >= 0), so -0.0 encodes +d and NaN encodes -d.
// ggml accepts an importance matrix for Q1_0 but ignores it.
struct BlockQ1_0 {
  uint16_t d;      // fp16 bits of the scale
  uint8_t qs[16];  // one sign bit per weight, LSB first
};
static_assert(sizeof(BlockQ1_0) == 18, "Q1_0 block must be 18 bytes");
inline constexpr BlockField kBlockQ1_0Fields[] = {GGUFKIT_BLOCK_FIELD(BlockQ1_0, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ1_0, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ1_0Fields, BlockQ1_0);
inline constexpr int kQ1_0BlockSize = 128;

// Q2_0 — 64 weights in 18 bytes, 2.25 bits/weight.
//
//   byte  0      1      2 .................................... 17
//        +------+------+-------+-------+-----------+-------+
//        |   d (half)  | qs[0] | qs[1] |    ...    | qs[15]|
//        +------+------+-------+-------+-----------+-------+
//   qs[k] = q(4k+3)<<6 | q(4k+2)<<4 | q(4k+1)<<2 | q(4k)  (2-bit codes)
//
//   y[j] = float(q_j - 1) * d       (codes 0,1,2,3 -> -d, 0, +d, +2d)
//
// Reference quantizer (quantize_row_q2_0_ref): d = max |x_j| (the max, not a
// division by the largest level), id = d > 0 ? 1/d : 0,
// q_j = clamp(roundf(x_j * id) + 1, 0, 3); so +2d is never produced by the
// reference quantizer, only read.
struct BlockQ2_0 {
  uint16_t d;      // fp16 bits of the scale
  uint8_t qs[16];  // four 2-bit codes per byte, element 4k in the low bits
};
static_assert(sizeof(BlockQ2_0) == 18, "Q2_0 block must be 18 bytes");
inline constexpr BlockField kBlockQ2_0Fields[] = {GGUFKIT_BLOCK_FIELD(BlockQ2_0, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ2_0, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ2_0Fields, BlockQ2_0);
inline constexpr int kQ2_0BlockSize = 64;

namespace internal {

// Row codecs (n = whole number of blocks, checked by the caller).
void DequantizeRowQ1_0(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowQ1_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowQ2_0(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowQ2_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

}  // namespace internal
}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_Q1_Q2_H_
