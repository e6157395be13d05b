// Scalar reference codecs of the i-quants (layouts and formulas in
// block_iq.h). Dequantizers for all of them; quantizers for IQ4_NL and IQ4_XS
// (the grid types need ggml's neighbour-search quantizers and an importance
// matrix, which are out of scope here).
#include <cmath>
#include <cstring>

#include "ggufkit/quants/block_iq.h"
#include "ggufkit/quants/extra_codec_util.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/iq_tables_data.h"

namespace ggufkit::internal {
namespace {

// Element j (0..7) of a 64-bit grid entry / 0..3 of a 32-bit one.
inline uint8_t GridByte(uint64_t entry, int j) { return static_cast<uint8_t>(entry >> (8 * j)); }

inline float SignOf(uint8_t pattern, int j) { return (pattern >> j) & 1 ? -1.0f : 1.0f; }

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// 8 weights: y[j] = (scale * grid[j]) * sign_j. The sign is applied last, as
// a separate (exact) multiply, which is what ggml does.
inline void WriteSignedGroup8(float scale, uint64_t grid, uint8_t signs, float* y) {
  for (int j = 0; j < 8; ++j)
    y[j] = scale * static_cast<float>(GridByte(grid, j)) * SignOf(signs, j);
}

// ---------------------------------------------------------------------------
// IQ4_NL / IQ4_XS quantizer: a port of the algorithm of ggml's
// quantize_row_iq4_nl_impl, written for bit-exact bytes (same operations in
// the same order, fp32 throughout, no contraction).
// ---------------------------------------------------------------------------

constexpr float kGroupMaxEps = 1e-15f;  // below this amax a sub-block is zero
constexpr int kScaleTrials = 7;         // what ggml_quantize_chunk uses

// Index of the level nearest to x among the 16 sorted kIq4NlValues (ties go
// up). Binary search exactly as ggml's best_index_int8, so NaN ends at 15.
int NearestIq4Level(float x) {
  const int8_t* values = kIq4NlValues;
  if (x <= values[0]) return 0;
  if (x >= values[15]) return 15;
  int lo = 0;
  int hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < values[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return x - values[hi - 1] < values[hi] - x ? hi - 1 : hi;
}

// ggml's nearest_int: round to nearest even through the float magic number
// 1.5 * 2^23 (valid for |x| < 2^22; larger inputs give garbage, identically).
int NearestIntMagic(float x) {
  const float shifted = x + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

// Quantizes one super-block of `super_block_size` weights (32 for IQ4_NL,
// 256 for IQ4_XS) in sub-blocks of 32. Writes d, the packed codes and, when
// there is more than one sub-block, the 6-bit sub-block scales.
void QuantizeIq4SuperBlock(int super_block_size, const float* x, const float* imatrix,
                           uint16_t* d_out, uint8_t* qs_out, uint16_t* scales_h,
                           uint8_t* scales_l) {
  constexpr int kSub = 32;
  const int n_sub = super_block_size / kSub;
  uint8_t levels[kIqSuperBlockSize];
  float scales[kIqSuperBlockSize / kSub];
  float weight[kSub];

  float sigma2 = 0;
  for (int j = 0; j < super_block_size; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.f / super_block_size;

  float max_scale = 0;
  float amax_scale = 0;
  const float v0 = kIq4NlValues[0];
  for (int ib = 0; ib < n_sub; ++ib) {
    const float* xb = x + ib * kSub;
    uint8_t* lb = levels + ib * kSub;
    if (imatrix != nullptr) {
      const float* qw = imatrix + ib * kSub;
      for (int j = 0; j < kSub; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
    } else {
      for (int j = 0; j < kSub; ++j) weight[j] = xb[j] * xb[j];
    }
    float amax = 0;
    float max = 0;
    for (int j = 0; j < kSub; ++j) {
      const float ax = std::fabs(xb[j]);
      if (ax > amax) {
        amax = ax;
        max = xb[j];
      }
    }
    if (amax < kGroupMaxEps) {
      // Codes of a zero sub-block are filled in below from a zero scale.
      scales[ib] = 0;
      std::memset(lb, 0, kSub);
      continue;
    }
    // Start from the scale that maps the largest magnitude onto the most
    // negative level, then refine by least squares and scale trials.
    float d = -max / v0;
    float id = 1 / d;
    float sumqx = 0;
    float sumq2 = 0;
    for (int j = 0; j < kSub; ++j) {
      const float al = id * xb[j];
      const int l = NearestIq4Level(al);
      lb[j] = static_cast<uint8_t>(l);
      const float q = kIq4NlValues[l];
      const float w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -kScaleTrials; itry <= kScaleTrials; ++itry) {
      id = static_cast<float>(itry + kIq4NlValues[0]) / max;
      sumqx = 0;
      sumq2 = 0;
      for (int j = 0; j < kSub; ++j) {
        const float al = id * xb[j];
        const int l = NearestIq4Level(al);
        const float q = kIq4NlValues[l];
        const float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    const float abs_d = std::fabs(d);
    if (abs_d > amax_scale) {
      amax_scale = abs_d;
      max_scale = d;
    }
  }

  if (n_sub > 1) {
    *scales_h = 0;
    // -max_scale / 32 maps the largest sub-block scale onto the 6-bit code
    // -32; an all-zero block gives -0.0 here, stored as half 0x8000.
    const float d = -max_scale / 32;
    *d_out = F32ToF16(d);
    const float id = d != 0.0f ? 1 / d : 0.f;
    for (int ib = 0; ib < n_sub; ++ib) {
      int l = NearestIntMagic(id * scales[ib]);
      l = l < -32 ? -32 : (l > 31 ? 31 : l);
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0.0f ? 1 / dl : 0.f;
      uint8_t* lb = levels + ib * kSub;
      const float* xb = x + ib * kSub;
      for (int j = 0; j < kSub; ++j) lb[j] = static_cast<uint8_t>(NearestIq4Level(idl * xb[j]));
      l += 32;
      const uint8_t l_low = static_cast<uint8_t>(l & 0xf);
      const uint8_t l_high = static_cast<uint8_t>(l >> 4);
      if (ib % 2 == 0) {
        scales_l[ib / 2] = l_low;
      } else {
        scales_l[ib / 2] = static_cast<uint8_t>(scales_l[ib / 2] | (l_low << 4));
      }
      *scales_h = static_cast<uint16_t>(*scales_h | (l_high << (2 * (ib % 8))));
    }
  } else {
    *d_out = F32ToF16(scales[0]);
    const float id = scales[0] != 0.0f ? 1 / scales[0] : 0;
    for (int j = 0; j < super_block_size; ++j) {
      levels[j] = static_cast<uint8_t>(NearestIq4Level(id * x[j]));
    }
  }

  for (int i = 0; i < super_block_size / 32; ++i) {
    for (int j = 0; j < 16; ++j) {
      qs_out[16 * i + j] =
          static_cast<uint8_t>(levels[32 * i + j] | (levels[32 * i + 16 + j] << 4));
    }
  }
}

}  // namespace

void DequantizeRowIq4Nl(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kIq4NlBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq4Nl block = LoadBlock<BlockIq4Nl>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kIq4NlBlockSize;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * static_cast<float>(kIq4NlValues[block.qs[j] & 0xf]);
      y[j + 16] = d * static_cast<float>(kIq4NlValues[block.qs[j] >> 4]);
    }
  }
}

void QuantizeRowIq4Nl(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  const int64_t n_blocks = n / kIq4NlBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    BlockIq4Nl block;
    uint16_t unused_scales_h = 0;
    QuantizeIq4SuperBlock(kIq4NlBlockSize, x + i * kIq4NlBlockSize,
                          imatrix != nullptr ? imatrix + i * kIq4NlBlockSize : nullptr, &block.d,
                          block.qs, &unused_scales_h, nullptr);
    StoreBlock(block, blocks, i);
  }
}

void DequantizeRowIq4Xs(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq4Xs block = LoadBlock<BlockIq4Xs>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const int ls = ((block.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xf) |
                     (((block.scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      const uint8_t* qs = block.qs + 16 * ib;
      for (int j = 0; j < 16; ++j) {
        y[32 * ib + j] = dl * static_cast<float>(kIq4NlValues[qs[j] & 0xf]);
        y[32 * ib + j + 16] = dl * static_cast<float>(kIq4NlValues[qs[j] >> 4]);
      }
    }
  }
}

void QuantizeRowIq4Xs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    BlockIq4Xs block;
    std::memset(&block, 0, sizeof(block));
    QuantizeIq4SuperBlock(kIqSuperBlockSize, x + i * kIqSuperBlockSize,
                          imatrix != nullptr ? imatrix + i * kIqSuperBlockSize : nullptr, &block.d,
                          block.qs, &block.scales_h, block.scales_l);
    StoreBlock(block, blocks, i);
  }
}

void DequantizeRowIq2Xxs(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq2Xxs block = LoadBlock<BlockIq2Xxs>(blocks, i);
    const float d = F16ToF32(block.d);
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(block.qs);
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* group = bytes + 8 * ib;
      const uint32_t aux = LoadU32(group + 4);
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = kIqSignPatterns[(aux >> (7 * l)) & 127];
        WriteSignedGroup8(db, kIq2XxsGrid[group[l]], signs, y);
        y += 8;
      }
    }
  }
}

void DequantizeRowIq2Xs(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq2Xs block = LoadBlock<BlockIq2Xs>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const float db[2] = {d * (0.5f + static_cast<float>(block.scales[ib] & 0xf)) * 0.25f,
                           d * (0.5f + static_cast<float>(block.scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const uint16_t q = block.qs[4 * ib + l];
        WriteSignedGroup8(db[l / 2], kIq2XsGrid[q & 511], kIqSignPatterns[q >> 9], y);
        y += 8;
      }
    }
  }
}

void DequantizeRowIq2S(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq2S block = LoadBlock<BlockIq2S>(blocks, i);
    const float d = F16ToF32(block.d);
    const uint8_t* signs = block.qs + 32;
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const float db[2] = {d * (0.5f + static_cast<float>(block.scales[ib] & 0xf)) * 0.25f,
                           d * (0.5f + static_cast<float>(block.scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const int index = block.qs[4 * ib + l] | (((block.qh[ib] >> (2 * l)) & 3) << 8);
        WriteSignedGroup8(db[l / 2], kIq2SGrid[index], signs[4 * ib + l], y);
        y += 8;
      }
    }
  }
}

void DequantizeRowIq3Xxs(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq3Xxs block = LoadBlock<BlockIq3Xxs>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* idx = block.qs + 8 * ib;
      const uint32_t aux = LoadU32(block.qs + 64 + 4 * ib);
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = kIqSignPatterns[(aux >> (7 * l)) & 127];
        const uint64_t grid8 = static_cast<uint64_t>(kIq3XxsGrid[idx[2 * l]]) |
                               static_cast<uint64_t>(kIq3XxsGrid[idx[2 * l + 1]]) << 32;
        WriteSignedGroup8(db, grid8, signs, y);
        y += 8;
      }
    }
  }
}

void DequantizeRowIq3S(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq3S block = LoadBlock<BlockIq3S>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const int nibble = (block.scales[ib / 2] >> (4 * (ib % 2))) & 0xf;
      const float db = d * static_cast<float>(1 + 2 * nibble);
      const uint8_t* idx = block.qs + 8 * ib;
      for (int l = 0; l < 4; ++l) {
        const int g0 = idx[2 * l] | (((block.qh[ib] >> (2 * l)) & 1) << 8);
        const int g1 = idx[2 * l + 1] | (((block.qh[ib] >> (2 * l + 1)) & 1) << 8);
        const uint64_t grid8 =
            static_cast<uint64_t>(kIq3SGrid[g0]) | static_cast<uint64_t>(kIq3SGrid[g1]) << 32;
        WriteSignedGroup8(db, grid8, block.signs[4 * ib + l], y);
        y += 8;
      }
    }
  }
}

void DequantizeRowIq1S(const uint8_t* blocks, float* out, int64_t n) {
  constexpr float kDelta = 0.125f;
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq1S block = LoadBlock<BlockIq1S>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const uint16_t qh = block.qh[ib];
      const float dl = d * static_cast<float>(2 * ((qh >> 12) & 7) + 1);
      const float delta = (qh & 0x8000) ? -kDelta : kDelta;
      for (int l = 0; l < 4; ++l) {
        const int index = block.qs[4 * ib + l] | (((qh >> (3 * l)) & 7) << 8);
        const uint64_t grid = kIq1SGrid[index];
        for (int j = 0; j < 8; ++j) {
          y[j] = dl * (static_cast<float>(static_cast<int8_t>(GridByte(grid, j))) + delta);
        }
        y += 8;
      }
    }
  }
}

void DequantizeRowIq1M(const uint8_t* blocks, float* out, int64_t n) {
  constexpr float kDelta = 0.125f;
  const int64_t n_blocks = n / kIqSuperBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockIq1M block = LoadBlock<BlockIq1M>(blocks, i);
    uint16_t sc[4];
    std::memcpy(sc, block.scales, sizeof sc);
    const uint16_t d_bits = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                                                  ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = F16ToF32(d_bits);
    float* y = out + i * kIqSuperBlockSize;
    for (int ib = 0; ib < 8; ++ib) {
      const int shift = 6 * (ib % 2);
      const float dl[2] = {d * static_cast<float>(2 * ((sc[ib / 2] >> shift) & 7) + 1),
                           d * static_cast<float>(2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1)};
      for (int l = 0; l < 4; ++l) {
        const int h = block.qh[2 * ib + l / 2] >> (4 * (l % 2));
        const int index = block.qs[4 * ib + l] | ((h & 7) << 8);
        const float delta = (h & 8) ? -kDelta : kDelta;
        const uint64_t grid = kIq1SGrid[index];
        for (int j = 0; j < 8; ++j) {
          y[j] = dl[l / 2] * (static_cast<float>(static_cast<int8_t>(GridByte(grid, j))) + delta);
        }
        y += 8;
      }
    }
  }
}

}  // namespace ggufkit::internal
