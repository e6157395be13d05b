// Scalar reference codecs of TQ1_0 and TQ2_0 (layouts in block_ternary.h).
#include <cmath>

#include "ggufkit/quants/block_ternary.h"
#include "ggufkit/quants/extra_codec_util.h"
#include "ggufkit/quants/half.h"

namespace ggufkit::internal {
namespace {

constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};

// Trit n (0 = most significant) of a TQ1_0 byte. The multiply wraps modulo
// 256 on purpose: it shifts the fixed-point fraction left by n trits.
inline int Trit(uint8_t byte, int n) {
  const uint8_t shifted = static_cast<uint8_t>(byte * kPow3[n]);
  return (static_cast<int>(shifted) * 3) >> 8;
}

// Packs `count` trits (first = most significant) as ceil(T * 256 / 243).
inline uint8_t PackTrits(const int* trits, int count) {
  uint8_t t = 0;
  // uint8 arithmetic as in ggml: out-of-range trits (NaN input) wrap the same.
  for (int k = 0; k < count; ++k) t = static_cast<uint8_t>(t * 3 + trits[k]);
  for (int k = count; k < 5; ++k) t = static_cast<uint8_t>(t * 3);
  return static_cast<uint8_t>((static_cast<int>(t) * 256 + 242) / 243);
}

float BlockAbsMax(const float* x) {
  float amax = 0.0f;
  // ggml's MAX(a, b) is a > b ? a : b, not fmax: a NaN element makes amax
  // NaN until the next number replaces it. Kept as is for identical bytes.
  for (int j = 0; j < kTernaryBlockSize; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  return amax;
}

}  // namespace

void DequantizeRowTq1_0(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kTernaryBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockTq1_0 block = LoadBlock<BlockTq1_0>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kTernaryBlockSize;
    for (int n5 = 0; n5 < 5; ++n5) {
      for (int m = 0; m < 32; ++m)
        y[32 * n5 + m] = static_cast<float>(Trit(block.qs[m], n5) - 1) * d;
    }
    for (int n5 = 0; n5 < 5; ++n5) {
      for (int m = 0; m < 16; ++m) {
        y[160 + 16 * n5 + m] = static_cast<float>(Trit(block.qs[32 + m], n5) - 1) * d;
      }
    }
    for (int n4 = 0; n4 < 4; ++n4) {
      for (int m = 0; m < 4; ++m)
        y[240 + 4 * n4 + m] = static_cast<float>(Trit(block.qh[m], n4) - 1) * d;
    }
  }
}

void QuantizeRowTq1_0(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  const int64_t n_blocks = n / kTernaryBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float* xb = x + i * kTernaryBlockSize;
    const float d = BlockAbsMax(xb);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    auto trit = [&](int j) { return RoundHalfAwayToInt32(xb[j] * id) + 1; };
    BlockTq1_0 block;
    block.d = F32ToF16(d);
    int trits[5];
    for (int m = 0; m < 32; ++m) {
      for (int k = 0; k < 5; ++k) trits[k] = trit(32 * k + m);
      block.qs[m] = PackTrits(trits, 5);
    }
    for (int m = 0; m < 16; ++m) {
      for (int k = 0; k < 5; ++k) trits[k] = trit(160 + 16 * k + m);
      block.qs[32 + m] = PackTrits(trits, 5);
    }
    for (int m = 0; m < 4; ++m) {
      for (int k = 0; k < 4; ++k) trits[k] = trit(240 + 4 * k + m);
      block.qh[m] = PackTrits(trits, 4);
    }
    StoreBlock(block, blocks, i);
  }
}

void DequantizeRowTq2_0(const uint8_t* blocks, float* out, int64_t n) {
  const int64_t n_blocks = n / kTernaryBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const BlockTq2_0 block = LoadBlock<BlockTq2_0>(blocks, i);
    const float d = F16ToF32(block.d);
    float* y = out + i * kTernaryBlockSize;
    for (int c = 0; c < 2; ++c) {
      for (int l = 0; l < 4; ++l) {
        for (int m = 0; m < 32; ++m) {
          const int q = (block.qs[32 * c + m] >> (2 * l)) & 3;
          y[128 * c + 32 * l + m] = static_cast<float>(q - 1) * d;
        }
      }
    }
  }
}

void QuantizeRowTq2_0(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  const int64_t n_blocks = n / kTernaryBlockSize;
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float* xb = x + i * kTernaryBlockSize;
    const float d = BlockAbsMax(xb);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockTq2_0 block;
    block.d = F32ToF16(d);
    for (int c = 0; c < 2; ++c) {
      for (int m = 0; m < 32; ++m) {
        unsigned byte = 0;
        for (int l = 0; l < 4; ++l) {
          const int q = RoundHalfAwayToInt32(xb[128 * c + 32 * l + m] * id) + 1;
          byte += static_cast<unsigned>(q & 3) << (2 * l);
        }
        block.qs[32 * c + m] = static_cast<uint8_t>(byte);
      }
    }
    StoreBlock(block, blocks, i);
  }
}

}  // namespace ggufkit::internal
