// Scalar reference codecs of MXFP4 and NVFP4 (layouts in block_fp4.h).
#include <cmath>
#include <cstring>

#include "ggufkit/quants/block_fp4.h"
#include "ggufkit/quants/extra_codec_util.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/iq_tables_data.h"

namespace ggufkit::internal {
namespace {

// First index i minimizing |kFp4DoubledValues[i] * h - x| (ties keep the
// lower index, so +0 wins over -0 and x = -0.0 encodes code 0).
uint8_t NearestFp4Code(float x, float h) {
  int best = 0;
  float best_err = std::fabs(static_cast<float>(kFp4DoubledValues[0]) * h - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(static_cast<float>(kFp4DoubledValues[i]) * h - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return static_cast<uint8_t>(best);
}

}  // namespace

float E8M0ToHalfScale(uint8_t e) {
  // 2^(e-128): e >= 2 is a normal float with biased exponent e - 1; e = 0, 1
  // are the subnormals 2^-128 and 2^-127.
  if (e < 2) return BitsToFloat(0x00200000u << e);
  return BitsToFloat(static_cast<uint32_t>(e - 1) << 23);
}

float Ue4m3ToHalfScale(uint8_t d) {
  if (d == 0 || d == 0x7F) return 0.0f;
  const int exponent = (d >> 3) & 0xF;  // bit 7 is ignored, as in ggml
  const int mantissa = d & 0x7;
  const float value = exponent == 0
                          ? std::ldexp(static_cast<float>(mantissa), -9)
                          : std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  return value * 0.5f;
}

uint8_t FloatToUe4m3(float x) {
  if (!(x > 0.0f)) return 0;
  if (x > 448.0f) x = 448.0f;
  const uint32_t bits = FloatBits(x);
  const int fp32_exponent = static_cast<int>((bits >> 23) & 0xFF) - 127;
  const int fp32_mantissa = static_cast<int>((bits >> 20) & 0x7);
  int exponent = fp32_exponent + 7;
  if (exponent <= 0) {
    // Subnormal UE4M3: value = man * 2^-9.
    int mantissa = static_cast<int>(x * 512.0f + 0.5f);
    if (mantissa > 7) mantissa = 7;
    if (mantissa < 1) return 0;
    return static_cast<uint8_t>(mantissa);
  }
  if (exponent >= 15) return 0x7E;
  // Round half up on the first dropped mantissa bit (not to nearest even).
  int mantissa = fp32_mantissa + static_cast<int>((bits >> 19) & 1);
  if (mantissa > 7) {
    mantissa = 0;
    ++exponent;
    if (exponent >= 15) return 0x7E;
  }
  return static_cast<uint8_t>((exponent << 3) | mantissa);
}

void DequantizeRowMxfp4(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kMxfp4BlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockMxfp4 block = LoadBlock<BlockMxfp4>(blocks, i);
    const float h = E8M0ToHalfScale(block.e);
    float* y = out + i * kMxfp4BlockSize;
    for (int j = 0; j < kMxfp4BlockSize / 2; ++j) {
      y[j] = static_cast<float>(kFp4DoubledValues[block.qs[j] & 0x0F]) * h;
      y[j + kMxfp4BlockSize / 2] = static_cast<float>(kFp4DoubledValues[block.qs[j] >> 4]) * h;
    }
  }
}

void QuantizeRowMxfp4(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  const int64_t n_blocks = n / kMxfp4BlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float* xb = x + i * kMxfp4BlockSize;
    float amax = 0.0f;
    for (int j = 0; j < kMxfp4BlockSize; ++j) {
      if (amax < std::fabs(xb[j])) amax = std::fabs(xb[j]);
    }
    BlockMxfp4 block;
    block.e = 0;
    if (amax > 0.0f) {
      // ggml converts this float straight to uint8_t; below 2^-125 it is
      // negative, which x86 wraps modulo 256 (through a 32-bit integer).
      const float biased = std::floor(std::log2(amax)) - 2 + 127;
      block.e = static_cast<uint8_t>(static_cast<uint32_t>(TruncateToInt32(biased)) & 0xFFu);
    }
    const float h = E8M0ToHalfScale(block.e);
    for (int j = 0; j < kMxfp4BlockSize / 2; ++j) {
      const uint8_t lo = NearestFp4Code(xb[j], h);
      const uint8_t hi = NearestFp4Code(xb[j + kMxfp4BlockSize / 2], h);
      block.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    StoreBlock(block, blocks, i);
  }
}

void DequantizeRowNvfp4(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kNvfp4BlockSize;
  constexpr int kHalf = kNvfp4SubBlockSize / 2;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockNvfp4 block = LoadBlock<BlockNvfp4>(blocks, i);
    for (int s = 0; s < kNvfp4BlockSize / kNvfp4SubBlockSize; ++s) {
      const float h = Ue4m3ToHalfScale(block.d[s]);
      float* y = out + i * kNvfp4BlockSize + s * kNvfp4SubBlockSize;
      for (int j = 0; j < kHalf; ++j) {
        const uint8_t byte = block.qs[s * kHalf + j];
        y[j] = static_cast<float>(kFp4DoubledValues[byte & 0x0F]) * h;
        y[j + kHalf] = static_cast<float>(kFp4DoubledValues[byte >> 4]) * h;
      }
    }
  }
}

void QuantizeRowNvfp4(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  const int64_t n_blocks = n / kNvfp4BlockSize;
  constexpr int kHalf = kNvfp4SubBlockSize / 2;
  for (int64_t i = 0; i < n_blocks; ++i) {
    BlockNvfp4 block;
    for (int s = 0; s < kNvfp4BlockSize / kNvfp4SubBlockSize; ++s) {
      const float* xb = x + i * kNvfp4BlockSize + s * kNvfp4SubBlockSize;
      float amax = 0.0f;
      for (int j = 0; j < kNvfp4SubBlockSize; ++j) {
        if (amax < std::fabs(xb[j])) amax = std::fabs(xb[j]);
      }
      // 6 is the largest E2M1 magnitude: amax maps onto it.
      block.d[s] = FloatToUe4m3(amax / 6.0f);
      const float h = Ue4m3ToHalfScale(block.d[s]);
      for (int j = 0; j < kHalf; ++j) {
        const uint8_t lo = NearestFp4Code(xb[j], h);
        const uint8_t hi = NearestFp4Code(xb[j + kHalf], h);
        block.qs[s * kHalf + j] = static_cast<uint8_t>(lo | (hi << 4));
      }
    }
    StoreBlock(block, blocks, i);
  }
}

}  // namespace ggufkit::internal
