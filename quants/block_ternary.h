// TQ1_0 (ggml id 34) and TQ2_0 (id 35): ternary weights {-1, 0, +1} * d for
// BitNet b1.58 / TriLM models, 256 weights per block, one fp16 scale.
#ifndef GGUFKIT_QUANTS_BLOCK_TERNARY_H_
#define GGUFKIT_QUANTS_BLOCK_TERNARY_H_

#include <cstddef>
#include <cstdint>

#include "ggufkit/quants/block_fields.h"

namespace ggufkit {

// TQ1_0 — 256 weights in 54 bytes, 1.6875 bits/weight.
//
//   byte  0 ........ 31 | 32 ........ 47 | 48 .. 51 | 52   53
//        +--------------+----------------+----------+---------+
//        |  qs[0..31]   |   qs[32..47]   | qh[0..3] | d(half) |
//        +--------------+----------------+----------+---------+
//   Each qs byte packs 5 trits, each qh byte 4 trits (plus an unused fifth
//   trit slot), as a fixed-point fraction: byte = ceil(T * 256 / 243) where
//   T = t0*81 + t1*27 + t2*9 + t3*3 + t4 (t in {0,1,2}; qh: t4 = 0). Trit n
//   is recovered without division:  t_n = (uint8(byte * 3^n) * 3) >> 8.
//   Weight order (trit n of byte m):
//     qs[m],      m < 32:  weight 32n + m              (weights   0..159)
//     qs[32 + m], m < 16:  weight 160 + 16n + m        (weights 160..239)
//     qh[m],      m < 4 :  weight 240 + 4n + m, n < 4  (weights 240..255)
//
//   y = float(t - 1) * d
//
// Reference quantizer (quantize_row_tq1_0_ref): d = max |x| over the block,
// id = d ? 1/d : 0, t = lroundf(x * id) + 1. No importance matrix.
struct BlockTq1_0 {
  uint8_t qs[48];  // 5 trits per byte
  uint8_t qh[4];   // 4 trits per byte
  uint16_t d;      // fp16 bits of the scale
};
static_assert(sizeof(BlockTq1_0) == 54, "TQ1_0 block must be 54 bytes");
inline constexpr BlockField kBlockTq1_0Fields[] = {GGUFKIT_BLOCK_FIELD(BlockTq1_0, qs, 48, kBytes),
                                                   GGUFKIT_BLOCK_FIELD(BlockTq1_0, qh, 4, kBytes),
                                                   GGUFKIT_BLOCK_FIELD(BlockTq1_0, d, 1, kFp16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockTq1_0Fields, BlockTq1_0);

// TQ2_0 — 256 weights in 66 bytes, 2.0625 bits/weight.
//
//   byte  0 ............................ 63 | 64   65
//        +-----------------------------------+---------+
//        |             qs[0..63]             | d(half) |
//        +-----------------------------------+---------+
//   qs[32c + m] bits 2l+1..2l = code of weight 128c + 32l + m
//   (c in {0,1}, l in 0..3, m in 0..31).
//
//   y = float(q - 1) * d      (code 3 reads as +2d; the quantizer never
//                              writes it)
//
// Reference quantizer (quantize_row_tq2_0_ref): as TQ1_0, q = lroundf(x*id)+1.
struct BlockTq2_0 {
  uint8_t qs[64];  // 2-bit codes
  uint16_t d;      // fp16 bits of the scale
};
static_assert(sizeof(BlockTq2_0) == 66, "TQ2_0 block must be 66 bytes");
inline constexpr BlockField kBlockTq2_0Fields[] = {GGUFKIT_BLOCK_FIELD(BlockTq2_0, qs, 64, kBytes),
                                                   GGUFKIT_BLOCK_FIELD(BlockTq2_0, d, 1, kFp16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockTq2_0Fields, BlockTq2_0);

inline constexpr int kTernaryBlockSize = 256;

namespace internal {

void DequantizeRowTq1_0(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowTq1_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowTq2_0(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowTq2_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

}  // namespace internal
}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_TERNARY_H_
