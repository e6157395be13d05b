// The "legacy" ggml block formats: 32 weights per block, one fp16 scale
// (and for the _1 variants one fp16 offset), 4, 5 or 8 bits per weight.
//
// All multi-byte fields are little-endian; `half` is IEEE binary16. The
// structs are byte images of one block: they are never accessed in place
// (blocks in a file or tensor have no alignment), the codecs memcpy one block
// at a time into a local struct.
//
// Evaluation order (bit-exactness with ggml): every formula below is a
// sequence of separately rounded float operations, in the order written. The
// integer code is converted to float exactly first. Compile with
// -ffp-contract=off so that `q * d + m` is never fused.
#ifndef GGUFKIT_QUANTS_BLOCK_LEGACY_H_
#define GGUFKIT_QUANTS_BLOCK_LEGACY_H_

#include <cstddef>
#include <cstdint>

#include "ggufkit/quants/block_fields.h"

namespace ggufkit {

inline constexpr int kLegacyBlockSize = 32;

// Q4_0 (id 2): 32 weights, 18 bytes, 4.5 bits per weight.
//
//   byte  0     2                                   18
//         +-----+-----------------------------------+
//         |  d  | qs[0] qs[1] ...            qs[15] |
//         +-----+-----------------------------------+
//   qs[j] = hi:lo nibbles  lo -> element j, hi -> element j + 16
//
//   y[j] = float(q[j] - 8) * d          q in 0..15, so y in {-8d .. 7d}
//
// Quantizer (ggml quantize_row_q4_0_ref): `max` = the element of largest
// magnitude (first one on ties, sign kept); d = max / -8; id = d ? 1/d : 0;
// q = min(15, trunc_to_int8(x * id + 8.5)). The extreme element lands on
// code 0 exactly, so the sign of d carries the sign of the extreme.
// With an importance matrix (ggml quantize_row_q4_0_impl): per element weight
// w = imatrix[j] * sqrt(sigma2 + x^2), sigma2 = mean of x^2 over the row, and
// d is chosen by make_qx_quants (rmse_type 1): a search over 19 candidate
// scales around -nmax/max minimizing the weighted squared error.
struct BlockQ4_0 {
  uint16_t d;      // half: scale
  uint8_t qs[16];  // nibbles: element j in low nibble of qs[j], j+16 in the high
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block is 18 bytes");
inline constexpr BlockField kBlockQ4_0Fields[] = {GGUFKIT_BLOCK_FIELD(BlockQ4_0, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ4_0, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ4_0Fields, BlockQ4_0);

// Q4_1 (id 3): 32 weights, 20 bytes, 5 bits per weight.
//
//   byte  0     2     4                             20
//         +-----+-----+-----------------------------+
//         |  d  |  m  | qs[0] ...           qs[15]  |
//         +-----+-----+-----------------------------+
//   qs[j]: low nibble -> element j, high nibble -> element j + 16
//
//   y[j] = float(q[j]) * d + m          (product rounded, then the sum)
//
// Quantizer: min, max of the block; d = (max - min) / 15; id = d ? 1/d : 0;
// m = min; q = min(15, trunc_to_int8((x - min) * id + 0.5)).
// With an importance matrix: weights as for Q4_0, (d, min) from
// make_qkx3_quants (nmax 15, rmin -0.9, rdelta 0.05, 36 steps), which also
// lets the stored min be clamped to <= 0 and searches scales for the
// weighted least-squares fit.
struct BlockQ4_1 {
  uint16_t d;  // half: scale
  uint16_t m;  // half: offset (the block minimum)
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block is 20 bytes");
inline constexpr BlockField kBlockQ4_1Fields[] = {GGUFKIT_BLOCK_FIELD(BlockQ4_1, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ4_1, m, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ4_1, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ4_1Fields, BlockQ4_1);

// Q5_0 (id 6): 32 weights, 22 bytes, 5.5 bits per weight.
//
//   byte  0     2           6                       22
//         +-----+-----------+-----------------------+
//         |  d  | qh (u32)  | qs[0] ...     qs[15]  |
//         +-----+-----------+-----------------------+
//   low 4 bits of element j: low nibble of qs[j] (j < 16) or high nibble of
//   qs[j - 16]; bit 4 of element j: bit j of qh (qh little-endian u32).
//
//   y[j] = float(q[j] - 16) * d         q in 0..31
//
// Quantizer: as Q4_0 with d = max / -16 and q = min(31, trunc(x * id + 16.5)).
// Importance matrix: as Q4_0 with nmax 16.
struct BlockQ5_0 {
  uint16_t d;     // half: scale
  uint8_t qh[4];  // fifth bits, bit j -> element j
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block is 22 bytes");
// qh is one uint32 in ggml (memcpy to and from a uint32_t), though declared uint8_t[4].
inline constexpr BlockField kBlockQ5_0Fields[] = {GGUFKIT_BLOCK_FIELD(BlockQ5_0, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ5_0, qh, 1, kU32),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ5_0, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ5_0Fields, BlockQ5_0);

// Q5_1 (id 7): 32 weights, 24 bytes, 6 bits per weight.
//
//   byte  0     2     4           8                 24
//         +-----+-----+-----------+-----------------+
//         |  d  |  m  | qh (u32)  | qs[0] .. qs[15] |
//         +-----+-----+-----------+-----------------+
//   bits as Q5_0.
//
//   y[j] = float(q[j]) * d + m
//
// Quantizer: as Q4_1 with d = (max - min) / 31 and q = trunc_to_uint8((x -
// min) * id + 0.5) (no clamp, as in ggml). Importance matrix: as Q4_1, nmax 31.
struct BlockQ5_1 {
  uint16_t d;  // half: scale
  uint16_t m;  // half: offset
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block is 24 bytes");
// qh: one uint32, as in Q5_0.
inline constexpr BlockField kBlockQ5_1Fields[] = {
    GGUFKIT_BLOCK_FIELD(BlockQ5_1, d, 1, kFp16), GGUFKIT_BLOCK_FIELD(BlockQ5_1, m, 1, kFp16),
    GGUFKIT_BLOCK_FIELD(BlockQ5_1, qh, 1, kU32), GGUFKIT_BLOCK_FIELD(BlockQ5_1, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ5_1Fields, BlockQ5_1);

// Q8_0 (id 8): 32 weights, 34 bytes, 8.5 bits per weight.
//
//   byte  0     2                                   34
//         +-----+-----------------------------------+
//         |  d  | qs[0] (int8) ...         qs[31]   |
//         +-----+-----------------------------------+
//
//   y[j] = float(qs[j]) * d
//
// Quantizer: amax = max |x|; d = amax / 127; id = d ? 1/d : 0;
// qs = roundf(x * id) (half away from zero). No importance matrix (ggml
// ignores it for Q8_0, and so do we).
struct BlockQ8_0 {
  uint16_t d;  // half: scale
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block is 34 bytes");
inline constexpr BlockField kBlockQ8_0Fields[] = {GGUFKIT_BLOCK_FIELD(BlockQ8_0, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ8_0, qs, 32, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ8_0Fields, BlockQ8_0);

// Q8_1 (id 9): 32 weights, 36 bytes, 9 bits per weight. ggml's intermediate
// format for dot products with Q4_1/Q5_1; never stored by its quantize tool.
//
//   byte  0     2     4                             36
//         +-----+-----+-----------------------------+
//         |  d  |  s  | qs[0] (int8) ...   qs[31]   |
//         +-----+-----+-----------------------------+
//
//   y[j] = float(qs[j]) * d             (s = half(d * sum(qs)) is not used)
//
// Quantizer: as Q8_0, then s = half(float(sum of qs) * d).
struct BlockQ8_1 {
  uint16_t d;  // half: scale
  uint16_t s;  // half: d * sum(qs), a dot-product helper
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 block is 36 bytes");
inline constexpr BlockField kBlockQ8_1Fields[] = {GGUFKIT_BLOCK_FIELD(BlockQ8_1, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ8_1, s, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockQ8_1, qs, 32, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockQ8_1Fields, BlockQ8_1);

namespace internal {

// Reference codecs (signatures of DequantizeRowFn / QuantizeRowFn). n is a
// whole number of 32-element blocks; pointers need no alignment. With an
// importance matrix, x is one row of n elements and imatrix its n weights.
void DequantizeRowQ4_0(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ4_1(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ5_0(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ5_1(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ8_0(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowQ8_1(const uint8_t* blocks, float* out, int64_t n);

void QuantizeRowQ4_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ4_1(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ5_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ5_1(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ8_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowQ8_1(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

}  // namespace internal
}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_LEGACY_H_
