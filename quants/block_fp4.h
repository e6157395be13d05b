// MXFP4 (ggml id 39) and NVFP4 (id 40): 4-bit E2M1 floats with a shared
// power-of-two (MXFP4, OCP microscaling) or UE4M3 (NVFP4) scale.
//
// The 16 E2M1 codes (sign bit 3, exponent bits 2..1, mantissa bit 0) are
//   code:  0  1    2  3    4  5  6  7 |  8   9    10  11    12  13  14  15
//   value: 0  0.5  1  1.5  2  3  4  6 | -0  -0.5  -1  -1.5  -2  -3  -4  -6
// ggml keeps them doubled as integers (kFp4DoubledValues in
// iq_tables_data.h: 0 1 2 3 4 6 8 12 0 -1 ... -12) and halves the scale
// instead, so a weight is int8 * float, one rounding. Code 8 (-0) reads as +0.
#ifndef GGUFKIT_QUANTS_BLOCK_FP4_H_
#define GGUFKIT_QUANTS_BLOCK_FP4_H_

#include <cstddef>
#include <cstdint>

#include "ggufkit/quants/block_fields.h"

namespace ggufkit {

// MXFP4 — 32 weights in 17 bytes, 4.25 bits/weight.
//
//   byte  0    1       2             16
//        +----+-------+-------+-----+--------+
//        | e  | qs[0] | qs[1] | ... | qs[15] |
//        +----+-------+-------+-----+--------+
//   qs[j] low nibble = code of weight j, high nibble = code of weight j + 16.
//   e is an E8M0 exponent: scale 2^(e - 127); ggml treats e = 255 as 2^128
//   (no NaN).
//
//   y[j] = float(kFp4DoubledValues[code_j]) * h,
//   h = 2^(e - 128) exactly (e = 0 and 1 give the subnormals 2^-128, 2^-127).
//
// Reference quantizer (quantize_row_mxfp4_ref): amax = max |x|;
// e = amax > 0 ? uint8(floor(log2f(amax)) - 2 + 127) : 0 (log2f as in the C
// library, which is what ggml uses: near powers of two its rounding decides
// e); each code = the first index minimizing |kFp4DoubledValues[i] * h - x|.
// No importance matrix.
struct BlockMxfp4 {
  uint8_t e;       // E8M0 shared exponent
  uint8_t qs[16];  // E2M1 codes, two per byte
};
static_assert(sizeof(BlockMxfp4) == 17, "MXFP4 block must be 17 bytes");
inline constexpr BlockField kBlockMxfp4Fields[] = {GGUFKIT_BLOCK_FIELD(BlockMxfp4, e, 1, kBytes),
                                                   GGUFKIT_BLOCK_FIELD(BlockMxfp4, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockMxfp4Fields, BlockMxfp4);
inline constexpr int kMxfp4BlockSize = 32;

// NVFP4 — 64 weights in 36 bytes (4 sub-blocks of 16), 4.5 bits/weight.
//
//   byte  0    1    2    3    4       5             35
//        +----+----+----+----+-------+-------+-----+--------+
//        |d[0]|d[1]|d[2]|d[3]| qs[0] | qs[1] | ... | qs[31] |
//        +----+----+----+----+-------+-------+-----+--------+
//   sub-block s (weights 16s .. 16s+15) uses scale d[s] and qs[8s .. 8s+7]:
//   qs[8s + j] low nibble = code of weight 16s + j, high nibble = 16s + j + 8.
//   d[s] is UE4M3: bits 6..3 exponent (bias 7), bits 2..0 mantissa; ggml
//   ignores bit 7 and reads 0x00 and 0x7F as 0.
//
//   y = float(kFp4DoubledValues[code]) * h[s], where h[s] = UE4M3(d[s]) / 2:
//     exponent 0: man * 2^-9 / 2;  else (1 + man/8) * 2^(exp-7) / 2  (exact)
//
// Reference quantizer (quantize_row_nvfp4_ref): per sub-block
// d[s] = ToUE4M3(amax / 6) (round half up on the mantissa; subnormals rounded
// as int(v * 512 + 0.5); anything that would get exponent 15, i.e. v >= 256,
// becomes 0x7E = 448, so 0x78..0x7D are never written); codes chosen like
// MXFP4 against h[s]. No importance matrix.
struct BlockNvfp4 {
  uint8_t d[4];    // UE4M3 scale per 16-weight sub-block
  uint8_t qs[32];  // E2M1 codes, two per byte
};
static_assert(sizeof(BlockNvfp4) == 36, "NVFP4 block must be 36 bytes");
inline constexpr BlockField kBlockNvfp4Fields[] = {GGUFKIT_BLOCK_FIELD(BlockNvfp4, d, 4, kBytes),
                                                   GGUFKIT_BLOCK_FIELD(BlockNvfp4, qs, 32, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockNvfp4Fields, BlockNvfp4);
inline constexpr int kNvfp4BlockSize = 64;
inline constexpr int kNvfp4SubBlockSize = 16;

namespace internal {

// E8M0 exponent -> 2^(e - 128) (half the MX scale), as ggml computes it.
float E8M0ToHalfScale(uint8_t e);
// UE4M3 byte -> half its value (0 for 0x00 and 0x7F), as ggml computes it.
float Ue4m3ToHalfScale(uint8_t d);
// float -> UE4M3 byte with ggml's rounding (0 for x <= 0 and NaN).
uint8_t FloatToUe4m3(float x);

void DequantizeRowMxfp4(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowMxfp4(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowNvfp4(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowNvfp4(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

}  // namespace internal
}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_FP4_H_
