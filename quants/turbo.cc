#include "ggufkit/quants/turbo.h"

#include <cmath>
#include <cstring>

#include "ggufkit/quants/half.h"

namespace ggufkit {
namespace {

constexpr TurboCodebook kTurbo2Codebook{kTurbo2BitCentroids, kTurbo2BitThresholds, 4};
constexpr TurboCodebook kTurbo3Codebook{kTurbo3BitCentroids, kTurbo3BitThresholds, 8};
constexpr TurboCodebook kTurbo3CodebookV1{kTurbo3BitCentroidsV1, kTurbo3BitThresholdsV1, 8};
constexpr TurboCodebook kTurbo4Codebook{kTurbo4BitCentroids, kTurbo4BitThresholds, 16};
constexpr TurboCodebook kTurbo4CodebookV1{kTurbo4BitCentroidsV1, kTurbo4BitThresholdsV1, 16};

// Unnormalised Walsh-Hadamard butterflies in the fork's order (h ascending,
// blocks left to right): the order fixes the float roundings of every sum.
void HadamardButterflies128(float* x) {
  for (int h = 1; h < kTurboGroupSize; h *= 2) {
    for (int i = 0; i < kTurboGroupSize; i += 2 * h) {
      for (int j = i; j < i + h; ++j) {
        const float a = x[j];
        const float b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
}

// Where the index bits start: after the fp16 norm, and after the unused rnorm
// in the v1 turbo4 block.
int IndexOffset(TurboFormat format, TurboVariant variant) {
  return (format == TurboFormat::kTurbo4 && variant == TurboVariant::kV1) ? 4 : 2;
}

void PackIndices(TurboFormat format, const uint8_t* idx, uint8_t* qs) {
  switch (format) {
    case TurboFormat::kTurbo2:
    case TurboFormat::kTurbo3: {
      uint8_t* hi = qs + 32;
      std::memset(qs, 0, 32);
      if (format == TurboFormat::kTurbo3) std::memset(hi, 0, 16);
      for (int j = 0; j < kTurboGroupSize; ++j) {
        qs[j / 4] = static_cast<uint8_t>(qs[j / 4] | ((idx[j] & 3) << (2 * (j % 4))));
        if (format == TurboFormat::kTurbo3) {
          hi[j / 8] = static_cast<uint8_t>(hi[j / 8] | (((idx[j] >> 2) & 1) << (j % 8)));
        }
      }
      break;
    }
    case TurboFormat::kTurbo4:
      for (int b = 0; b < kTurboGroupSize / 2; ++b) {
        qs[b] = static_cast<uint8_t>((idx[2 * b] & 15) | ((idx[2 * b + 1] & 15) << 4));
      }
      break;
  }
}

}  // namespace

const TurboCodebook& GetTurboCodebook(TurboFormat format, TurboVariant variant) {
  const bool v1 = variant == TurboVariant::kV1;
  switch (format) {
    case TurboFormat::kTurbo2:
      return kTurbo2Codebook;
    case TurboFormat::kTurbo3:
      return v1 ? kTurbo3CodebookV1 : kTurbo3Codebook;
    case TurboFormat::kTurbo4:
      break;
  }
  return v1 ? kTurbo4CodebookV1 : kTurbo4Codebook;
}

int TurboBlockBytes(TurboFormat format, TurboVariant variant) {
  switch (format) {
    case TurboFormat::kTurbo2:
      return static_cast<int>(sizeof(BlockTurbo2));
    case TurboFormat::kTurbo3:
      return static_cast<int>(sizeof(BlockTurbo3));
    case TurboFormat::kTurbo4:
      break;
  }
  return variant == TurboVariant::kV1 ? static_cast<int>(sizeof(BlockTurbo4V1))
                                      : static_cast<int>(sizeof(BlockTurbo4));
}

void WhtForward128(float* x) {
  for (int i = 0; i < kTurboGroupSize; ++i) x[i] *= kTurboSigns1[i];
  HadamardButterflies128(x);
  for (int i = 0; i < kTurboGroupSize; ++i) x[i] *= (kTurboWhtScale * kTurboSigns2[i]);
}

void WhtInverse128(float* x) {
  for (int i = 0; i < kTurboGroupSize; ++i) x[i] *= kTurboSigns2[i];
  HadamardButterflies128(x);
  for (int i = 0; i < kTurboGroupSize; ++i) x[i] *= (kTurboWhtScale * kTurboSigns1[i]);
}

void QuantizeTurboGroup(TurboFormat format, TurboVariant variant, const float* x, uint8_t* block) {
  float u[kTurboGroupSize];
  float norm_sq = 0.0f;
  for (int i = 0; i < kTurboGroupSize; ++i) norm_sq += x[i] * x[i];
  const float norm = std::sqrt(norm_sq);

  if (format == TurboFormat::kTurbo4) {
    // The fork's turbo4 path tests the norm per element and writes +0 when it
    // fails (NaN norm included); turbo2/3 multiply by a zero inverse instead.
    for (int i = 0; i < kTurboGroupSize; ++i) {
      u[i] = norm > kTurboNormEpsilon ? x[i] * (1.0f / norm) : 0.0f;
    }
  } else {
    const float inv = norm > kTurboNormEpsilon ? 1.0f / norm : 0.0f;
    for (int i = 0; i < kTurboGroupSize; ++i) u[i] = x[i] * inv;
  }
  WhtForward128(u);

  const TurboCodebook& book = GetTurboCodebook(format, variant);
  uint8_t idx[kTurboGroupSize];
  float recon_sq = 0.0f;
  for (int i = 0; i < kTurboGroupSize; ++i) {
    idx[i] = static_cast<uint8_t>(TurboNearestIndex(u[i], book));
    const float c = book.centroids[idx[i]];
    recon_sq += c * c;
  }
  const float recon = std::sqrt(recon_sq);
  const float corrected = recon > kTurboNormEpsilon ? norm / recon : norm;
  const uint16_t norm_bits = F32ToF16(corrected);

  block[0] = static_cast<uint8_t>(norm_bits & 0xFF);
  block[1] = static_cast<uint8_t>(norm_bits >> 8);
  const int offset = IndexOffset(format, variant);
  if (offset == 4) {
    block[2] = 0;
    block[3] = 0;
  }
  PackIndices(format, idx, block + offset);
}

uint16_t TurboBlockNormBits(const uint8_t* block) {
  return static_cast<uint16_t>(block[0] | (block[1] << 8));
}

void UnpackTurboIndices(TurboFormat format, TurboVariant variant, const uint8_t* block,
                        uint8_t* indices) {
  const uint8_t* qs = block + IndexOffset(format, variant);
  switch (format) {
    case TurboFormat::kTurbo2:
    case TurboFormat::kTurbo3:
      for (int j = 0; j < kTurboGroupSize; ++j) {
        int idx = (qs[j / 4] >> (2 * (j % 4))) & 3;
        if (format == TurboFormat::kTurbo3) idx |= ((qs[32 + j / 8] >> (j % 8)) & 1) << 2;
        indices[j] = static_cast<uint8_t>(idx);
      }
      break;
    case TurboFormat::kTurbo4:
      for (int j = 0; j < kTurboGroupSize; ++j) {
        indices[j] = static_cast<uint8_t>((qs[j / 2] >> (4 * (j % 2))) & 15);
      }
      break;
  }
}

void DequantizeTurboGroup(TurboFormat format, TurboVariant variant, const uint8_t* block,
                          float* y) {
  const TurboCodebook& book = GetTurboCodebook(format, variant);
  const float norm = F16ToF32(TurboBlockNormBits(block));
  uint8_t idx[kTurboGroupSize];
  UnpackTurboIndices(format, variant, block, idx);
  for (int j = 0; j < kTurboGroupSize; ++j) y[j] = book.centroids[idx[j]] * norm;
}

}  // namespace ggufkit
