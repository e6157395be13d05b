// Scalar reference codecs of the legacy 32-weight formats (block_legacy.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "ggufkit/quants/block_legacy.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/quant_search_internal.h"

namespace ggufkit::internal {
namespace {

constexpr int kQK = kLegacyBlockSize;

// Largest-magnitude element, sign kept; the first one wins ties (strict <).
float SignedAbsMax(const float* x) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

// max |x| with ggml's MAX macro semantics ((a) > (b) ? (a) : (b)).
float AbsMax(const float* x) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  return amax;
}

void MinMax(const float* x, float* min_out, float* max_out) {
  float min = std::numeric_limits<float>::max();
  float max = -std::numeric_limits<float>::max();
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  *min_out = min;
  *max_out = max;
}

// Mean of x^2 over the whole row: the imatrix quantizers weight each element
// by imatrix[j] * sqrt(sigma2 + x[j]^2), so small elements still count.
float RowSigma2(const float* x, int64_t n) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / static_cast<float>(n);
}

void ImatrixWeights(const float* xb, const float* qw, float sigma2, float* weight) {
  for (int j = 0; j < kQK; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

// Bit 4 of element j goes to bit j of the 32-bit qh field.
void PackFifthBits(const uint8_t* q, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
    qh |= static_cast<uint32_t>((q[j] & 0x10u) >> 4) << j;
    qh |= static_cast<uint32_t>((q[j + 16] & 0x10u) >> 4) << (j + 16);
  }
  for (int b = 0; b < 4; ++b) qh_bytes[b] = static_cast<uint8_t>(qh >> (8 * b));
}

uint32_t LoadQh(const uint8_t* qh_bytes) {
  return static_cast<uint32_t>(qh_bytes[0]) | (static_cast<uint32_t>(qh_bytes[1]) << 8) |
         (static_cast<uint32_t>(qh_bytes[2]) << 16) | (static_cast<uint32_t>(qh_bytes[3]) << 24);
}

}  // namespace

// ---------------------------------------------------------------- dequantize

void DequantizeRowQ4_0(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ4_0>(blocks, i);
    const float d = F16ToF32(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
      out[j] = static_cast<float>((b.qs[j] & 0x0F) - 8) * d;
      out[j + 16] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
    }
  }
}

void DequantizeRowQ4_1(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ4_1>(blocks, i);
    const float d = F16ToF32(b.d);
    const float m = F16ToF32(b.m);
    for (int j = 0; j < kQK / 2; ++j) {
      out[j] = static_cast<float>(b.qs[j] & 0x0F) * d + m;
      out[j + 16] = static_cast<float>(b.qs[j] >> 4) * d + m;
    }
  }
}

void DequantizeRowQ5_0(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ5_0>(blocks, i);
    const float d = F16ToF32(b.d);
    const uint32_t qh = LoadQh(b.qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int hi0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int hi1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      out[j] = static_cast<float>(((b.qs[j] & 0x0F) | hi0) - 16) * d;
      out[j + 16] = static_cast<float>(((b.qs[j] >> 4) | hi1) - 16) * d;
    }
  }
}

void DequantizeRowQ5_1(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ5_1>(blocks, i);
    const float d = F16ToF32(b.d);
    const float m = F16ToF32(b.m);
    const uint32_t qh = LoadQh(b.qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int hi0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int hi1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      out[j] = static_cast<float>((b.qs[j] & 0x0F) | hi0) * d + m;
      out[j + 16] = static_cast<float>((b.qs[j] >> 4) | hi1) * d + m;
    }
  }
}

void DequantizeRowQ8_0(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ8_0>(blocks, i);
    const float d = F16ToF32(b.d);
    for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(b.qs[j]) * d;
  }
}

void DequantizeRowQ8_1(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, out += kQK) {
    const auto b = LoadBlock<BlockQ8_1>(blocks, i);
    const float d = F16ToF32(b.d);
    for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(b.qs[j]) * d;
  }
}

// ------------------------------------------------------------------ quantize

void QuantizeRowQ4_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  const float sigma2 = imatrix ? RowSigma2(x, n) : 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    BlockQ4_0 b;
    if (imatrix) {
      float weight[kQK];
      int8_t L[kQK];
      ImatrixWeights(xb, imatrix + i * kQK, sigma2, weight);
      b.d = F32ToF16(MakeQxQuants(kQK, 8, xb, L, 1, weight));
      for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    } else {
      const float d = SignedAbsMax(xb) / -8;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      b.d = F32ToF16(d);
      for (int j = 0; j < kQK / 2; ++j) {
        // ggml: MIN(15, (int8_t)(x * id + 8.5f)) stored in a uint8_t.
        const int q0 = std::min<int>(15, TruncToInt8(xb[j] * id + 8.5f));
        const int q1 = std::min<int>(15, TruncToInt8(xb[j + 16] * id + 8.5f));
        b.qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | (static_cast<uint8_t>(q1) << 4));
      }
    }
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ4_1(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  const float sigma2 = imatrix ? RowSigma2(x, n) : 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    BlockQ4_1 b;
    if (imatrix) {
      float weight[kQK];
      uint8_t L[kQK], Laux[kQK];
      ImatrixWeights(xb, imatrix + i * kQK, sigma2, weight);
      float min;
      const float d = MakeQkx3Quants(kQK, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
      b.d = F32ToF16(d);
      b.m = F32ToF16(-min);
      for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    } else {
      float min, max;
      MinMax(xb, &min, &max);
      const float d = (max - min) / 15;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      b.d = F32ToF16(d);
      b.m = F32ToF16(min);
      for (int j = 0; j < kQK / 2; ++j) {
        const int q0 = std::min<int>(15, TruncToInt8((xb[j] - min) * id + 0.5f));
        const int q1 = std::min<int>(15, TruncToInt8((xb[j + 16] - min) * id + 0.5f));
        b.qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | (static_cast<uint8_t>(q1) << 4));
      }
    }
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ5_0(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  const float sigma2 = imatrix ? RowSigma2(x, n) : 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    BlockQ5_0 b;
    uint8_t q[kQK];
    if (imatrix) {
      float weight[kQK];
      int8_t L[kQK];
      ImatrixWeights(xb, imatrix + i * kQK, sigma2, weight);
      b.d = F32ToF16(MakeQxQuants(kQK, 16, xb, L, 1, weight));
      for (int j = 0; j < kQK; ++j) q[j] = static_cast<uint8_t>(L[j]);
    } else {
      const float d = SignedAbsMax(xb) / -16;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      b.d = F32ToF16(d);
      for (int j = 0; j < kQK; ++j) {
        q[j] = static_cast<uint8_t>(std::min<int>(31, TruncToInt8(xb[j] * id + 16.5f)));
      }
    }
    PackFifthBits(q, b.qs, b.qh);
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ5_1(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  const float sigma2 = imatrix ? RowSigma2(x, n) : 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    BlockQ5_1 b;
    uint8_t q[kQK];
    if (imatrix) {
      float weight[kQK];
      uint8_t Laux[kQK];
      ImatrixWeights(xb, imatrix + i * kQK, sigma2, weight);
      float min;
      const float d = MakeQkx3Quants(kQK, 31, xb, weight, q, &min, Laux, -0.9f, 0.05f, 36, false);
      b.d = F32ToF16(d);
      b.m = F32ToF16(-min);
    } else {
      float min, max;
      MinMax(xb, &min, &max);
      const float d = (max - min) / 31;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      b.d = F32ToF16(d);
      b.m = F32ToF16(min);
      // No clamp here (unlike Q4_1): ggml casts straight to uint8_t.
      for (int j = 0; j < kQK; ++j) q[j] = TruncToUint8((xb[j] - min) * id + 0.5f);
    }
    PackFifthBits(q, b.qs, b.qh);
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ8_0(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    BlockQ8_0 b;
    const float d = AbsMax(xb) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = F32ToF16(d);
    for (int j = 0; j < kQK; ++j) b.qs[j] = RoundToInt8(xb[j] * id);
    StoreBlock(b, blocks, i);
  }
}

void QuantizeRowQ8_1(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    BlockQ8_1 b;
    const float d = AbsMax(xb) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = F32ToF16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b.qs[j] = RoundToInt8(xb[j] * id);
      sum += b.qs[j];
    }
    b.s = F32ToF16(static_cast<float>(sum) * d);
    StoreBlock(b, blocks, i);
  }
}

}  // namespace ggufkit::internal
