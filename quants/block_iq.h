// The "i-quants": IQ4_NL, IQ4_XS (non-linear 4-bit levels) and the codebook
// types IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, whose blocks
// store indices into fixed grids of 4 or 8 values (quants/iq_tables_data.h,
// generated from ggml by scripts/gen_iq_tables.py).
// Quantizers: IQ4_* in iq_codecs.cc; the codebook types in iq_quantizers.cc
// (ggml's searches, byte-identical; IQ2_XXS, IQ2_XS and IQ1_S need an
// importance matrix), with the search tables of iq_search_tables.h.
//
// Conventions used by the formulas below:
//   d       = float(half d) of the block
//   grid(g) = the bytes of table entry g, byte j = element j
//   sign7   = 7 stored sign bits; kIqSignPatterns[sign7] adds bit 7 as the
//             parity, so a group of 8 always has an even number of minus signs
//   s_j     = -1 if bit j of the 8-bit sign pattern is set, else +1
// Every product is evaluated left to right in fp32, as ggml does.
#ifndef GGUFKIT_QUANTS_BLOCK_IQ_H_
#define GGUFKIT_QUANTS_BLOCK_IQ_H_

#include <cstddef>
#include <cstdint>

#include "ggufkit/quants/block_fields.h"

namespace ggufkit {

inline constexpr int kIqSuperBlockSize = 256;

// IQ4_NL (id 20) — 32 weights in 18 bytes, 4.5 bits/weight.
//
//   byte  0      1      2 ..................... 17
//        +------+------+-------+-----+--------+
//        |   d (half)  | qs[0] | ... | qs[15] |
//        +------+------+-------+-----+--------+
//   qs[j] low nibble = code of weight j, high nibble = code of weight j + 16.
//
//   y = d * float(kIq4NlValues[code])        kIq4NlValues = -127 ... 113
//
// Quantizer = ggml's quantize_iq4_nl (what ggml_quantize_chunk runs, 7 scale
// trials), not quantize_row_iq4_nl_ref (which tries no alternative scales).
// With an importance matrix w, each element's error weight becomes
// w_j * sqrt(sigma2 + x_j^2) (sigma2 = 2 * mean(x^2) over the block) instead
// of x_j^2: the scale search minimizes the importance-weighted error.
struct BlockIq4Nl {
  uint16_t d;
  uint8_t qs[16];
};
static_assert(sizeof(BlockIq4Nl) == 18, "IQ4_NL block must be 18 bytes");
inline constexpr BlockField kBlockIq4NlFields[] = {GGUFKIT_BLOCK_FIELD(BlockIq4Nl, d, 1, kFp16),
                                                   GGUFKIT_BLOCK_FIELD(BlockIq4Nl, qs, 16, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq4NlFields, BlockIq4Nl);
inline constexpr int kIq4NlBlockSize = 32;

// IQ4_XS (id 23) — 256 weights in 136 bytes, 4.25 bits/weight.
//
//   byte  0  1 | 2  3      | 4 ....... 7 | 8 ............ 135
//        +-----+-----------+-------------+-----------------+
//        |  d  | scales_h  | scales_l[4] |    qs[128]      |
//        +-----+-----------+-------------+-----------------+
//   Sub-block b (weights 32b..32b+31) has a 6-bit scale
//     ls_b = ((scales_l[b/2] >> 4*(b%2)) & 15) | (((scales_h >> 2b) & 3) << 4)
//   and codes in qs[16b .. 16b+15] (low nibble weight 32b+j, high 32b+j+16).
//
//   y = (d * float(ls_b - 32)) * float(kIq4NlValues[code])
//
// Quantizer = ggml's quantize_iq4_xs (IQ4_NL's search per sub-block, then the
// sub-block scales quantized to 6 bits against d = -max_scale / 32). The
// importance matrix acts as for IQ4_NL, sigma2 taken over the 256 weights.
struct BlockIq4Xs {
  uint16_t d;
  uint16_t scales_h;    // 2 high bits of each of the 8 sub-block scales
  uint8_t scales_l[4];  // 4 low bits of each sub-block scale
  uint8_t qs[128];
};
static_assert(sizeof(BlockIq4Xs) == 136, "IQ4_XS block must be 136 bytes");
inline constexpr BlockField kBlockIq4XsFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockIq4Xs, d, 1, kFp16),
    GGUFKIT_BLOCK_FIELD(BlockIq4Xs, scales_h, 1, kU16),
    GGUFKIT_BLOCK_FIELD(BlockIq4Xs, scales_l, 4, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockIq4Xs, qs, 128, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq4XsFields, BlockIq4Xs);

// IQ2_XXS (id 16) — 256 weights in 66 bytes, 2.0625 bits/weight.
//
//   byte  0  1 | 2 .......................................... 65
//        +-----+---------------------------------------------+
//        |  d  |  8 groups of 8 bytes (one per 32 weights)   |
//        +-----+---------------------------------------------+
//   Group b: bytes 0..3 = grid indices g0..g3 (8 weights each, kIq2XxsGrid);
//   bytes 4..7 = little-endian u32 a: bits 7l..7l+6 = sign7 of group l,
//   bits 28..31 = scale s.
//
//   db = (d * (0.5 + s)) * 0.25;   y = (db * grid(g_l)[j]) * s_j
struct BlockIq2Xxs {
  uint16_t d;
  uint16_t qs[32];
};
static_assert(sizeof(BlockIq2Xxs) == 66, "IQ2_XXS block must be 66 bytes");
// qs holds 16 uint32 words (ggml's quantizer memcpy's uint32 words into it).
inline constexpr BlockField kBlockIq2XxsFields[] = {GGUFKIT_BLOCK_FIELD(BlockIq2Xxs, d, 1, kFp16),
                                                    GGUFKIT_BLOCK_FIELD(BlockIq2Xxs, qs, 16, kU32)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq2XxsFields, BlockIq2Xxs);

// IQ2_XS (id 17) — 256 weights in 74 bytes, 2.3125 bits/weight.
//
//   byte  0  1 | 2 ....................... 65 | 66 ...... 73
//        +-----+-----------------------------+-------------+
//        |  d  |   qs[32] (u16, 4 per 32 w)  |  scales[8]  |
//        +-----+-----------------------------+-------------+
//   qs[4b + l]: bits 0..8 = index into kIq2XsGrid, bits 9..15 = sign7.
//   scales[b]: low nibble = scale of groups 0,1, high nibble of groups 2,3.
//
//   db = (d * (0.5 + nibble)) * 0.25;   y = (db * grid[j]) * s_j
struct BlockIq2Xs {
  uint16_t d;
  uint16_t qs[32];
  uint8_t scales[8];
};
static_assert(sizeof(BlockIq2Xs) == 74, "IQ2_XS block must be 74 bytes");
inline constexpr BlockField kBlockIq2XsFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockIq2Xs, d, 1, kFp16), GGUFKIT_BLOCK_FIELD(BlockIq2Xs, qs, 32, kU16),
    GGUFKIT_BLOCK_FIELD(BlockIq2Xs, scales, 8, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq2XsFields, BlockIq2Xs);

// IQ2_S (id 22) — 256 weights in 82 bytes, 2.5625 bits/weight.
//
//   byte  0  1 | 2 ...... 33 | 34 ...... 65 | 66 .. 73 | 74 ..... 81
//        +-----+-------------+--------------+----------+------------+
//        |  d  | idx_lo[32]  |  signs[32]   |  qh[8]   | scales[8]  |
//        +-----+-------------+--------------+----------+------------+
//   Group l of sub-block b: grid index = idx_lo[4b+l] | ((qh[b] >> 2l) & 3) << 8
//   (kIq2SGrid, 1024 entries), 8 explicit sign bits = signs[4b+l].
//
//   db = (d * (0.5 + nibble)) * 0.25 (low nibble: groups 0,1; high: 2,3)
//   y = (db * grid[j]) * s_j
struct BlockIq2S {
  uint16_t d;
  uint8_t qs[64];  // 32 grid index bytes, then 32 sign bytes
  uint8_t qh[8];
  uint8_t scales[8];
};
static_assert(sizeof(BlockIq2S) == 82, "IQ2_S block must be 82 bytes");
inline constexpr BlockField kBlockIq2SFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockIq2S, d, 1, kFp16), GGUFKIT_BLOCK_FIELD(BlockIq2S, qs, 64, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockIq2S, qh, 8, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockIq2S, scales, 8, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq2SFields, BlockIq2S);

// IQ3_XXS (id 18) — 256 weights in 98 bytes, 3.0625 bits/weight.
//
//   byte  0  1 | 2 .............. 65 | 66 ............. 97
//        +-----+---------------------+--------------------+
//        |  d  | grid idx[64] (u8)   | 8 x u32 a (LE)     |
//        +-----+---------------------+--------------------+
//   Sub-block b: idx[8b .. 8b+7], each a group of 4 weights (kIq3XxsGrid);
//   a_b bits 7l..7l+6 = sign7 of 8-weight group l (idx 8b+2l, 8b+2l+1),
//   bits 28..31 = scale s.
//
//   db = (d * (0.5 + s)) * 0.5;   y = (db * grid[j]) * s_j
struct BlockIq3Xxs {
  uint16_t d;
  uint8_t qs[96];
};
static_assert(sizeof(BlockIq3Xxs) == 98, "IQ3_XXS block must be 98 bytes");
// The last 32 bytes of qs are 8 uint32 scale-and-sign words.
inline constexpr BlockField kBlockIq3XxsFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockIq3Xxs, d, 1, kFp16), GGUFKIT_BLOCK_FIELD(BlockIq3Xxs, qs, 64, kBytes),
    GGUFKIT_BLOCK_FIELD_AT(BlockIq3Xxs, qs, 64, 8, kU32)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq3XxsFields, BlockIq3Xxs);

// IQ3_S (id 21) — 256 weights in 110 bytes, 3.4375 bits/weight.
//
//   byte  0  1 | 2 ..... 65 | 66 .. 73 | 74 ...... 105 | 106 .. 109
//        +-----+------------+----------+---------------+-----------+
//        |  d  | idx_lo[64] |  qh[8]   |   signs[32]   | scales[4] |
//        +-----+------------+----------+---------------+-----------+
//   Sub-block b: 8 grid indices (4 weights each, kIq3SGrid, 512 entries)
//     g_k = idx_lo[8b + k] | ((qh[b] >> k) & 1) << 8,   k = 0..7
//   signs[4b + l] = the 8 sign bits of weights 32b+8l .. 32b+8l+7.
//   Scale nibble: scales[b/2] low nibble for even b, high nibble for odd b.
//
//   db = d * float(1 + 2 * nibble);   y = (db * grid[j]) * s_j
// ggml's quantizer skips an all-zero sub-block without advancing its idx_lo /
// signs write position: the next sub-blocks' idx_lo and signs land 8 and 4
// bytes early (qh does not move). Ours does the same, for identical bytes.
struct BlockIq3S {
  uint16_t d;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t signs[32];
  uint8_t scales[4];
};
static_assert(sizeof(BlockIq3S) == 110, "IQ3_S block must be 110 bytes");
inline constexpr BlockField kBlockIq3SFields[] = {
    GGUFKIT_BLOCK_FIELD(BlockIq3S, d, 1, kFp16), GGUFKIT_BLOCK_FIELD(BlockIq3S, qs, 64, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockIq3S, qh, 8, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockIq3S, signs, 32, kBytes),
    GGUFKIT_BLOCK_FIELD(BlockIq3S, scales, 4, kBytes)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq3SFields, BlockIq3S);

// IQ1_S (id 19) — 256 weights in 50 bytes, 1.5625 bits/weight.
//
//   byte  0  1 | 2 ........ 33 | 34 ............ 49
//        +-----+---------------+-------------------+
//        |  d  |  idx_lo[32]   |  qh[8] (u16, LE)  |
//        +-----+---------------+-------------------+
//   qh[b] for sub-block b (32 weights, 4 groups of 8):
//     bits 3l..3l+2 : high 3 bits of group l's 11-bit index into kIq1SGrid
//     bits 12..14   : scale s          bit 15: delta sign
//   grid index g_l = idx_lo[4b + l] | ((qh[b] >> 3l) & 7) << 8; grid values
//   are int8 in {-1, 0, +1}.
//
//   dl = d * float(2s + 1);  delta = bit15 ? -0.125 : 0.125
//   y = dl * (float(grid[j]) + delta)
struct BlockIq1S {
  uint16_t d;
  uint8_t qs[32];
  uint16_t qh[8];
};
static_assert(sizeof(BlockIq1S) == 50, "IQ1_S block must be 50 bytes");
inline constexpr BlockField kBlockIq1SFields[] = {GGUFKIT_BLOCK_FIELD(BlockIq1S, d, 1, kFp16),
                                                  GGUFKIT_BLOCK_FIELD(BlockIq1S, qs, 32, kBytes),
                                                  GGUFKIT_BLOCK_FIELD(BlockIq1S, qh, 8, kU16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq1SFields, BlockIq1S);

// IQ1_M (id 29) — 256 weights in 56 bytes, 1.75 bits/weight.
//
//   byte  0 ......... 31 | 32 ......... 47 | 48 .............. 55
//        +---------------+-----------------+---------------------+
//        |  idx_lo[32]   |     qh[16]      | scales (4 x u16 LE) |
//        +---------------+-----------------+---------------------+
//   No separate d: its fp16 bits are spread over the top nibbles of the four
//   u16 scale words sc[0..3]:
//     d_bits = (sc0 >> 12) | (sc1 >> 8 & 0x00f0) | (sc2 >> 4 & 0x0f00) | (sc3 & 0xf000)
//   Sub-block b (32 weights) uses qh[2b], qh[2b+1] and the 6 bits of
//   sc[b/2] at bit 6*(b%2): low 3 bits = scale s1 (groups 0,1), next 3 = s2
//   (groups 2,3). For group l (8 weights), qh byte h = qh[2b + l/2]:
//     index = idx_lo[4b + l] | ((l even ? h : h >> 4) & 7) << 8
//     delta = ((l even ? h : h >> 4) & 8) ? -0.125 : 0.125
//
//   dl = d * float(2s + 1);   y = dl * (float(grid[j]) + delta)
struct BlockIq1M {
  uint8_t qs[32];
  uint8_t qh[16];
  uint8_t scales[8];
};
static_assert(sizeof(BlockIq1M) == 56, "IQ1_M block must be 56 bytes");
// scales is 4 uint16 in ggml (read and written through a uint16_t*).
inline constexpr BlockField kBlockIq1MFields[] = {GGUFKIT_BLOCK_FIELD(BlockIq1M, qs, 32, kBytes),
                                                  GGUFKIT_BLOCK_FIELD(BlockIq1M, qh, 16, kBytes),
                                                  GGUFKIT_BLOCK_FIELD(BlockIq1M, scales, 4, kU16)};
GGUFKIT_CHECK_BLOCK_FIELDS(kBlockIq1MFields, BlockIq1M);

namespace internal {

void DequantizeRowIq4Nl(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq4Nl(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq4Xs(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq4Xs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq2Xxs(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq2Xxs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq2Xs(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq2Xs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq2S(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq2S(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq3Xxs(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq3Xxs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq3S(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq3S(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq1S(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq1S(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void DequantizeRowIq1M(const uint8_t* blocks, float* out, int64_t n);
void QuantizeRowIq1M(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

}  // namespace internal
}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_IQ_H_
