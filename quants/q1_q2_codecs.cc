// Scalar reference codecs of Q1_0 and Q2_0 (layouts in block_q1_q2.h).
#include <cmath>
#include <cstring>

#include "ggufkit/quants/block_q1_q2.h"
#include "ggufkit/quants/extra_codec_util.h"
#include "ggufkit/quants/half.h"

namespace ggufkit::internal {

void DequantizeRowQ1_0(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kQ1_0BlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockQ1_0 block = LoadBlock<BlockQ1_0>(blocks, i);
    // -d is d with its sign bit flipped (IEEE negation, for every value
    // including 0 and NaN), so a clear bit selects the sign without a branch:
    // ggml's per-bit branch is unpredictable on real sign patterns.
    const uint32_t d_bits = FloatBits(F16ToF32(block.d));
    float* y = out + i * kQ1_0BlockSize;
    for (int j = 0; j < kQ1_0BlockSize; ++j) {
      const uint32_t clear = ((block.qs[j / 8] >> (j % 8)) & 1u) ^ 1u;
      y[j] = BitsToFloat(d_bits ^ (clear << 31));
    }
  }
}

void QuantizeRowQ1_0(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  const int64_t n_blocks = n / kQ1_0BlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float* xb = x + i * kQ1_0BlockSize;
    // Summed in element order: a different order changes the last bit of d.
    float sum_abs = 0.0f;
    for (int j = 0; j < kQ1_0BlockSize; ++j) sum_abs += std::fabs(xb[j]);
    BlockQ1_0 block;
    block.d = F32ToF16(sum_abs / kQ1_0BlockSize);
    std::memset(block.qs, 0, sizeof(block.qs));
    for (int j = 0; j < kQ1_0BlockSize; ++j) {
      // (x >= 0) is false for NaN: NaN encodes -d, as in ggml.
      block.qs[j / 8] |= static_cast<uint8_t>(static_cast<unsigned>(xb[j] >= 0.0f) << (j % 8));
    }
    StoreBlock(block, blocks, i);
  }
}

void DequantizeRowQ2_0(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kQ2_0BlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockQ2_0 block = LoadBlock<BlockQ2_0>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kQ2_0BlockSize;
    for (int j = 0; j < kQ2_0BlockSize; ++j) {
      const int q = (block.qs[j / 4] >> (2 * (j % 4))) & 3;
      y[j] = static_cast<float>(q - 1) * d;
    }
  }
}

void QuantizeRowQ2_0(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  const int64_t n_blocks = n / kQ2_0BlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float* xb = x + i * kQ2_0BlockSize;
    float amax = 0.0f;
    for (int j = 0; j < kQ2_0BlockSize; ++j) {
      const float a = std::fabs(xb[j]);
      if (a > amax) amax = a;
    }
    const float d = amax;
    const float id = d > 0.0f ? 1.0f / d : 0.0f;
    BlockQ2_0 block;
    block.d = F32ToF16(d);
    std::memset(block.qs, 0, sizeof(block.qs));
    for (int j = 0; j < kQ2_0BlockSize; ++j) {
      int32_t q = TruncateToInt32(std::round(xb[j] * id));
      // Saturating +1: INT32_MIN (NaN input) must clamp to 0, not overflow.
      q = q < 0 ? 0 : q + 1;
      if (q > 3) q = 3;
      block.qs[j / 4] |= static_cast<uint8_t>(q << (2 * (j % 4)));
    }
    StoreBlock(block, blocks, i);
  }
}

}  // namespace ggufkit::internal
