// Scalar reference codecs of the K-quants (block_k.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "ggufkit/quants/block_k.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/quant_search_internal.h"

namespace ggufkit::internal {
namespace {

constexpr int kQK = kSuperBlockSize;

inline float ToF(int v) { return static_cast<float>(v); }

// Packs 2-bit codes L[0..255] into Q2_K/Q3_K's qs: element 128h + 32j + r
// goes to bits 2j of qs[32h + r].
void Pack2BitCodes(const uint8_t* L, uint8_t* qs) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* Lh = L + 128 * h;
    for (int r = 0; r < 32; ++r) {
      qs[32 * h + r] =
          static_cast<uint8_t>(Lh[r] | (Lh[r + 32] << 2) | (Lh[r + 64] << 4) | (Lh[r + 96] << 6));
    }
  }
}

// Packs 8 six-bit (scale, min) pairs into Q4_K/Q5_K's 12 scale bytes.
void PackScaleMinK4(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = ls[j];
    scales[j + 4] = lm[j];
  }
  for (int j = 4; j < 8; ++j) {
    scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
    scales[j - 4] = static_cast<uint8_t>(scales[j - 4] | ((ls[j] >> 4) << 6));
    scales[j] = static_cast<uint8_t>(scales[j] | ((lm[j] >> 4) << 6));
  }
}

// Re-fits the 4- or 5-bit codes of a Q4_K / Q5_K super-block to the stored
// (d * sc, dmin * m) of each sub-block: that is what the decoder will use.
void RefitCodesK4(const float* x, uint16_t d_half, uint16_t dmin_half, const uint8_t* scales,
                  int nmax, uint8_t* L) {
  for (int j = 0; j < kQK / 32; ++j) {
    uint8_t sc, m;
    UnpackScaleMinK4(j, scales, &sc, &m);
    const float d = F16ToF32(d_half) * ToF(sc);
    if (d == 0.0f) continue;
    const float dm = F16ToF32(dmin_half) * ToF(m);
    for (int ii = 0; ii < 32; ++ii) {
      const int l = NearestInt((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// Packs 6-bit signed scale codes (already biased to 0..63) into Q3_K's
// 12 scale bytes.
void PackScalesQ3K(const int* codes, uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < 16; ++j) {
    int l = codes[j];
    if (j < 8) {
      scales[j] = static_cast<uint8_t>(l & 0xF);
    } else {
      scales[j - 8] = static_cast<uint8_t>(scales[j - 8] | ((l & 0xF) << 4));
    }
    l >>= 4;
    scales[j % 4 + 8] = static_cast<uint8_t>(scales[j % 4 + 8] | (l << (2 * (j / 4))));
  }
}

// Shared tail of the Q3_K quantizers: re-fit levels to the stored scales,
// then split them into hmask (bit 2) and 2-bit qs.
void FinishQ3K(const float* x, BlockQ3_K* b, int8_t* L) {
  for (int j = 0; j < 16; ++j) {
    const int sc = UnpackScaleQ3K(j, b->scales) - 32;
    const float d = F16ToF32(b->d) * ToF(sc);
    if (d == 0.0f) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = NearestInt(x[16 * j + ii] / d);
      L[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
    }
  }
  // High bit of element e goes to hmask[e % 32], bit e / 32.
  std::memset(b->hmask, 0, sizeof b->hmask);
  uint8_t low[kQK];
  for (int e = 0; e < kQK; ++e) {
    int l = L[e];
    if (l > 3) {
      b->hmask[e % 32] = static_cast<uint8_t>(b->hmask[e % 32] | (1u << (e / 32)));
      l -= 4;
    }
    low[e] = static_cast<uint8_t>(l);
  }
  Pack2BitCodes(low, b->qs);
}

// Packs Q6_K levels (0..63) into ql / qh.
void PackQ6K(const int8_t* L, BlockQ6_K* b) {
  for (int h = 0; h < 2; ++h) {
    const int8_t* Lh = L + 128 * h;
    uint8_t* ql = b->ql + 64 * h;
    uint8_t* qh = b->qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      const int q1 = Lh[l], q2 = Lh[l + 32], q3 = Lh[l + 64], q4 = Lh[l + 96];
      ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
      qh[l] =
          static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
    }
  }
}

// Sum of x^2 over one super-block, in order.
float SumSquares(const float* x) {
  float s = 0;
  for (int l = 0; l < kQK; ++l) s += x[l] * x[l];
  return s;
}

}  // namespace

// ---------------------------------------------------------------- dequantize

void DequantizeRowQ2_K(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto b = LoadBlock<BlockQ2_K>(blocks, i);
    const float d = F16ToF32(b.d);
    const float dmin = F16ToF32(b.dmin);
    for (int e = 0; e < kQK; ++e) {
      const int h = e / 128, j = (e % 128) / 32, r = e % 32;
      const int s = 8 * h + 2 * j + r / 16;
      const float dl = d * ToF(b.scales[s] & 0xF);
      const float ml = dmin * ToF(b.scales[s] >> 4);
      const int q = (b.qs[32 * h + r] >> (2 * j)) & 3;
      out[i * kQK + e] = dl * ToF(q) - ml;
    }
  }
}

void DequantizeRowQ3_K(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto b = LoadBlock<BlockQ3_K>(blocks, i);
    const float d_all = F16ToF32(b.d);
    float dl[16];
    for (int s = 0; s < 16; ++s) dl[s] = d_all * ToF(UnpackScaleQ3K(s, b.scales) - 32);
    for (int e = 0; e < kQK; ++e) {
      const int h = e / 128, j = (e % 128) / 32, r = e % 32;
      const int low = (b.qs[32 * h + r] >> (2 * j)) & 3;
      const int high = (b.hmask[r] >> (4 * h + j)) & 1;
      out[i * kQK + e] = dl[8 * h + 2 * j + r / 16] * ToF(low - (high ? 0 : 4));
    }
  }
}

void DequantizeRowQ4_K(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ4_K>(blocks, i);
    const float d = F16ToF32(b.d);
    const float dmin = F16ToF32(b.dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      UnpackScaleMinK4(2 * c, b.scales, &sc, &m);
      const float d1 = d * ToF(sc), m1 = dmin * ToF(m);
      UnpackScaleMinK4(2 * c + 1, b.scales, &sc, &m);
      const float d2 = d * ToF(sc), m2 = dmin * ToF(m);
      const uint8_t* q = b.qs + 32 * c;
      for (int l = 0; l < 32; ++l) out[64 * c + l] = d1 * ToF(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) out[64 * c + 32 + l] = d2 * ToF(q[l] >> 4) - m2;
    }
  }
}

void DequantizeRowQ5_K(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ5_K>(blocks, i);
    const float d = F16ToF32(b.d);
    const float dmin = F16ToF32(b.dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      UnpackScaleMinK4(2 * c, b.scales, &sc, &m);
      const float d1 = d * ToF(sc), m1 = dmin * ToF(m);
      UnpackScaleMinK4(2 * c + 1, b.scales, &sc, &m);
      const float d2 = d * ToF(sc), m2 = dmin * ToF(m);
      const uint8_t* ql = b.qs + 32 * c;
      for (int l = 0; l < 32; ++l) {
        const int hi = ((b.qh[l] >> (2 * c)) & 1) << 4;
        out[64 * c + l] = d1 * ToF((ql[l] & 0xF) + hi) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const int hi = ((b.qh[l] >> (2 * c + 1)) & 1) << 4;
        out[64 * c + 32 + l] = d2 * ToF((ql[l] >> 4) + hi) - m2;
      }
    }
  }
}

void DequantizeRowQ6_K(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const auto b = LoadBlock<BlockQ6_K>(blocks, i);
    const float d = F16ToF32(b.d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      const int8_t* sc = b.scales + 8 * h;
      float* y = out + i * kQK + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int s = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * ToF(sc[s]) * ToF(q1);
        y[l + 32] = d * ToF(sc[s + 2]) * ToF(q2);
        y[l + 64] = d * ToF(sc[s + 4]) * ToF(q3);
        y[l + 96] = d * ToF(sc[s + 6]) * ToF(q4);
      }
    }
  }
}

void DequantizeRowQ8_K(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ8_K>(blocks, i);
    for (int j = 0; j < kQK; ++j) out[j] = b.d * ToF(b.qs[j]);
  }
}

// ------------------------------------------------------------------ quantize

void QuantizeRowQ2_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  constexpr float kQ4Scale = 15.f;
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ2_K b;
    uint8_t L[kQK];
    uint8_t Laux[16];
    float weights[16];
    float mins[16];
    float scales[16];
    if (!imatrix) {
      float max_scale = 0;  // scales are positive: the min is subtracted
      float max_min = 0;
      for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
        scales[j] = MakeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                   0.1f, 15, true);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
      }
      if (max_scale > 0) {
        const float iscale = kQ4Scale / max_scale;
        for (int j = 0; j < 16; ++j) {
          b.scales[j] = static_cast<uint8_t>(NearestInt(iscale * scales[j]));
        }
        b.d = F32ToF16(max_scale / kQ4Scale);
      } else {
        std::memset(b.scales, 0, sizeof b.scales);
        b.d = F32ToF16(0.f);
      }
      if (max_min > 0) {
        const float iscale = kQ4Scale / max_min;
        for (int j = 0; j < 16; ++j) {
          // Unsigned shift: l is garbage (maybe negative) for NaN input.
          const unsigned l = static_cast<unsigned>(NearestInt(iscale * mins[j]));
          b.scales[j] = static_cast<uint8_t>(b.scales[j] | (l << 4));
        }
        b.dmin = F32ToF16(max_min / kQ4Scale);
      } else {
        b.dmin = F32ToF16(0.f);
      }
    } else {
      float sw[16] = {};
      uint8_t Ls[16], Lm[16];
      const float sigma2 = SumSquares(x) / kQK;
      for (int j = 0; j < 16; ++j) {
        const float* qw = imatrix + kQK * i + 16 * j;
        for (int l = 0; l < 16; ++l) {
          weights[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
        }
        for (int l = 0; l < 16; ++l) sw[j] += weights[l];
        scales[j] = MakeQkx3Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.9f,
                                   0.05f, 36, false);
      }
      const float dm = MakeQpQuants(16, 15, scales, Ls, sw);
      const float mm = MakeQpQuants(16, 15, mins, Lm, sw);
      b.d = F32ToF16(dm);
      b.dmin = F32ToF16(mm);
      for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
    }
    // Re-fit the codes to the stored sub-block scale and min.
    for (int j = 0; j < 16; ++j) {
      const float d = F16ToF32(b.d) * ToF(b.scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = F16ToF32(b.dmin) * ToF(b.scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = NearestInt((x[16 * j + ii] + dm) / d);
        L[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
      }
    }
    Pack2BitCodes(L, b.qs);
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ3_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ3_K b;
    int8_t L[kQK];
    float scales[16];
    int codes[16];
    if (!imatrix) {
      float max_scale = 0;
      float amax = 0;
      for (int j = 0; j < 16; ++j) {
        scales[j] = MakeQ3Quants(16, 4, x + 16 * j, L + 16 * j, true);
        const float scale = std::fabs(scales[j]);
        if (scale > amax) {
          amax = scale;
          max_scale = scales[j];
        }
      }
      if (max_scale != 0.0f) {
        const float iscale = -32.f / max_scale;
        for (int j = 0; j < 16; ++j) {
          // ggml keeps the nearest level in an int8_t before clamping.
          const int l = static_cast<int8_t>(static_cast<uint8_t>(NearestInt(iscale * scales[j])));
          codes[j] = std::max(-32, std::min(31, l)) + 32;
        }
        PackScalesQ3K(codes, b.scales);
        b.d = F32ToF16(1 / iscale);
      } else {
        std::memset(b.scales, 0, sizeof b.scales);
        b.d = F32ToF16(0.f);
      }
    } else {
      float weight[16];
      float sw[16];
      int8_t Ls[16];
      const float sigma2 = 2 * SumSquares(x) / kQK;
      for (int j = 0; j < 16; ++j) {
        const float* qw = imatrix + kQK * i + 16 * j;
        for (int l = 0; l < 16; ++l) {
          weight[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
        }
        float sumw = 0;
        for (int l = 0; l < 16; ++l) sumw += weight[l];
        sw[j] = sumw;
        scales[j] = MakeQxQuants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
      }
      const float d_block = MakeQxQuants(16, 32, scales, Ls, 1, sw);
      for (int j = 0; j < 16; ++j) codes[j] = Ls[j];
      PackScalesQ3K(codes, b.scales);
      b.d = F32ToF16(d_block);
    }
    FinishQ3K(x, &b, L);
    StoreBlock(b, blocks, i);
  }
}

namespace {

// Q4_K and Q5_K share everything but nmax, the search grid and the packing.
template <typename Block, int kNmax>
void QuantizeSuperBlockK4(const float* x, const float* qw_block, Block* b, uint8_t* L) {
  uint8_t Laux[32];
  float weights[32];
  float mins[8];
  float scales[8];
  uint8_t ls[8], lm[8];
  std::memset(b->scales, 0, sizeof b->scales);
  if (!qw_block) {
    // Q4_K: 21 scales from -1.0; Q5_K: 16 from -0.5 (ggml's choices).
    constexpr float kRmin = kNmax == 15 ? -1.f : -0.5f;
    constexpr int kSteps = kNmax == 15 ? 20 : 15;
    float max_scale = 0;
    float max_min = 0;
    for (int j = 0; j < 8; ++j) {
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
      scales[j] = MakeQkx2Quants(32, kNmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, kRmin,
                                 0.1f, kSteps, false);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; ++j) {
      // ggml stores nearest_int in a uint8_t, then clamps to 63.
      ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_scale * scales[j])));
      lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_min * mins[j])));
    }
    b->d = F32ToF16(max_scale / 63.f);
    b->dmin = F32ToF16(max_min / 63.f);
  } else {
    float sw[8];
    float sum_x2 = 0;
    for (int l = 0; l < kQK; ++l) sum_x2 += x[l] * x[l];
    const float sigma2 = 2 * sum_x2 / kQK;
    for (int j = 0; j < 8; ++j) {
      const float* qw = qw_block + 32 * j;
      for (int l = 0; l < 32; ++l) {
        weights[l] = qw[l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
      }
      float sumw = 0;
      for (int l = 0; l < 32; ++l) sumw += weights[l];
      sw[j] = sumw;
      scales[j] = MakeQkx3Quants(32, kNmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f,
                                 0.05f, 36, false);
    }
    const float d_block = MakeQpQuants(8, 63, scales, ls, sw);
    const float m_block = MakeQpQuants(8, 63, mins, lm, sw);
    if (kNmax == 31) {
      // ggml clamps here for Q5_K only (a no-op unless a scale went negative).
      for (int j = 0; j < 8; ++j) {
        ls[j] = std::min<uint8_t>(63, ls[j]);
        lm[j] = std::min<uint8_t>(63, lm[j]);
      }
    }
    b->d = F32ToF16(d_block);
    b->dmin = F32ToF16(m_block);
  }
  PackScaleMinK4(ls, lm, b->scales);
  RefitCodesK4(x, b->d, b->dmin, b->scales, kNmax, L);
}

}  // namespace

void QuantizeRowQ4_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ4_K b;
    uint8_t L[kQK];
    QuantizeSuperBlockK4<BlockQ4_K, 15>(x, imatrix ? imatrix + kQK * i : nullptr, &b, L);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        b.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + l + 32] << 4));
      }
    }
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ5_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ5_K b;
    uint8_t L[kQK];
    QuantizeSuperBlockK4<BlockQ5_K, 31>(x, imatrix ? imatrix + kQK * i : nullptr, &b, L);
    std::memset(b.qh, 0, sizeof b.qh);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        int l1 = L[64 * c + l];
        int l2 = L[64 * c + l + 32];
        if (l1 > 15) {
          l1 -= 16;
          b.qh[l] = static_cast<uint8_t>(b.qh[l] | (1u << (2 * c)));
        }
        if (l2 > 15) {
          l2 -= 16;
          b.qh[l] = static_cast<uint8_t>(b.qh[l] | (2u << (2 * c)));
        }
        b.qs[32 * c + l] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
    }
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ6_K(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ6_K b;
    int8_t L[kQK];
    float scales[16];
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
      // With an imatrix ggml weights by imatrix[j] alone (no sigma2 term).
      const float* qw = imatrix ? imatrix + kQK * i + 16 * ib : nullptr;
      const float scale = MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&b, 0, sizeof b);
      StoreBlock(b, blocks, i);
      continue;
    }
    const float iscale = -128.f / max_scale;
    b.d = F32ToF16(1 / iscale);
    for (int ib = 0; ib < 16; ++ib) {
      b.scales[ib] =
          static_cast<int8_t>(static_cast<uint8_t>(std::min(127, NearestInt(iscale * scales[ib]))));
    }
    for (int j = 0; j < 16; ++j) {
      const float d = F16ToF32(b.d) * ToF(b.scales[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = NearestInt(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }
    PackQ6K(L, &b);
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ8_K(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    BlockQ8_K b;
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kQK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&b, 0, sizeof b);
      StoreBlock(b, blocks, i);
      continue;
    }
    // -127, not -128: keeps every code in -127..127 (ggml's choice for IQ2).
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK; ++j) {
      b.qs[j] = static_cast<int8_t>(static_cast<uint8_t>(std::min(127, NearestInt(iscale * x[j]))));
    }
    for (int k = 0; k < 16; ++k) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += b.qs[16 * k + ii];
      b.bsums[k] = static_cast<int16_t>(sum);
    }
    b.d = 1 / iscale;
    StoreBlock(b, blocks, i);
  }
}

}  // namespace ggufkit::internal
