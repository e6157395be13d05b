// TurboQuant turbo2 / turbo3 / turbo4 codecs and the 128-point rotation, per
// target. Formats, tables and the reference order of operations:
// quants/turbo.h.

#if defined(GGUFKIT_DEQUANT_TURBO_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_TURBO_INL_H_
#undef GGUFKIT_DEQUANT_TURBO_INL_H_
#else
#define GGUFKIT_DEQUANT_TURBO_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/output-inl.h"
#include "hwy/highway.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/turbo.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// The Sylvester Hadamard butterflies of quants/turbo.cc on 128 floats at u
// (64-byte aligned). Stage h pairs element j with j + h: x[j] = a + b,
// x[j + h] = a - b. Stages with h >= Lanes pair whole vectors; smaller h pair
// lanes of one vector, brought together by a permute (partner = lane ^ h).
// Each result is the same single addition or subtraction of the same two
// operands, in the same order, so the output is bit-exact.
HWY_INLINE void HadamardButterflies128(float* HWY_RESTRICT u) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VI lane = hn::Iota(di, 0);
  for (size_t h = 1; h < lanes; h *= 2) {
    const VI h_vec = hn::Set(di, static_cast<int32_t>(h));
    const auto partner = hn::IndicesFromVec(df, hn::Xor(lane, h_vec));
    const auto is_second = hn::RebindMask(df, hn::TestBit(lane, h_vec));
    for (size_t i = 0; i < 128; i += lanes) {
      const VF x = hn::Load(df, u + i);
      const VF other = hn::TableLookupLanes(x, partner);
      // First of a pair: a + b = x + other; second: a - b = other - x.
      hn::Store(hn::IfThenElse(is_second, hn::Sub(other, x), hn::Add(x, other)), df, u + i);
    }
  }
  for (size_t h = lanes; h < 128; h *= 2) {
    for (size_t i = 0; i < 128; i += 2 * h) {
      for (size_t j = i; j < i + h; j += lanes) {
        const VF a = hn::Load(df, u + j);
        const VF b = hn::Load(df, u + j + h);
        hn::Store(hn::Add(a, b), df, u + j);
        hn::Store(hn::Sub(a, b), df, u + j + h);
      }
    }
  }
}

// u *= first; butterflies; u *= (kTurboWhtScale * second), the constant
// product formed first as in the reference.
HWY_INLINE void Rotate128(float* HWY_RESTRICT u, const float* first, const float* second) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  for (size_t i = 0; i < 128; i += lanes) {
    hn::Store(hn::Mul(hn::Load(df, u + i), hn::LoadU(df, first + i)), df, u + i);
  }
  HadamardButterflies128(u);
  const VF scale = hn::Set(df, kTurboWhtScale);
  for (size_t i = 0; i < 128; i += lanes) {
    hn::Store(hn::Mul(hn::Load(df, u + i), hn::Mul(scale, hn::LoadU(df, second + i))), df, u + i);
  }
}

void RotateTurboGroupsT(float* x, int64_t n_groups, bool inverse) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const float* first = inverse ? kTurboSigns2 : kTurboSigns1;
  const float* second = inverse ? kTurboSigns1 : kTurboSigns2;
  alignas(64) float u[128];
  for (int64_t g = 0; g < n_groups; ++g) {
    float* group = x + g * 128;
    for (size_t i = 0; i < 128; i += lanes) hn::Store(hn::LoadU(df, group + i), df, u + i);
    Rotate128(u, first, second);
    for (size_t i = 0; i < 128; i += lanes) hn::StoreU(hn::Load(df, u + i), df, group + i);
  }
}

// Byte offset of the indices in a block (v1 turbo4 has an unused fp16 first).
HWY_INLINE size_t TurboIndexOffset(TurboFormat format, TurboVariant variant) {
  return (format == TurboFormat::kTurbo4 && variant == TurboVariant::kV1) ? 4 : 2;
}

// Indices of elements j .. j + Lanes - 1 of a block whose index bytes start
// at qs. Each vector broadcasts the few bytes it needs and shifts lane k by
// k * bits, so no byte is read outside the block.
HWY_INLINE VI UnpackTurboIndices(TurboFormat format, const uint8_t* qs, size_t j) {
  const DI di;
  const size_t lanes = hn::Lanes(di);
  const VI lane = hn::Iota(di, 0);
  if (format == TurboFormat::kTurbo4) {
    uint32_t w0 = 0, w1 = 0;
    std::memcpy(&w0, qs + j / 2, lanes / 2 < 4 ? lanes / 2 : 4);
    if (lanes > 8) std::memcpy(&w1, qs + j / 2 + 4, 4);
    const VI words =
        hn::IfThenElse(hn::Lt(lane, hn::Set(di, 8)), hn::Set(di, static_cast<int32_t>(w0)),
                       hn::Set(di, static_cast<int32_t>(w1)));
    const VI shift = hn::ShiftLeft<2>(hn::And(lane, hn::Set(di, 7)));
    return hn::And(hn::Shr(words, shift), hn::Set(di, 15));
  }
  uint32_t low = 0;
  std::memcpy(&low, qs + j / 4, lanes / 4);
  VI idx = hn::And(hn::Shr(hn::Set(di, static_cast<int32_t>(low)), hn::ShiftLeft<1>(lane)),
                   hn::Set(di, 3));
  if (format == TurboFormat::kTurbo3) {
    const uint8_t* hi = qs + 32;
    uint32_t bits = 0;
    if (lanes >= 8) {
      std::memcpy(&bits, hi + j / 8, lanes / 8);
    } else {
      bits = static_cast<uint32_t>(hi[j / 8]) >> (j % 8);
    }
    const VI bit = hn::And(hn::Shr(hn::Set(di, static_cast<int32_t>(bits)), lane), hn::Set(di, 1));
    idx = hn::Or(idx, hn::ShiftLeft<2>(bit));
  }
  return idx;
}

// y = centroid[idx] * norm, as one product per element: the products of all
// levels are formed first (the same roundings), then looked up.
void DequantizeTurboGroupsT(TurboFormat format, TurboVariant variant, const uint8_t* blocks,
                            int64_t n_groups, float* y) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const TurboCodebook& book = GetTurboCodebook(format, variant);
  const size_t block_bytes = static_cast<size_t>(TurboBlockBytes(format, variant));
  const size_t offset = TurboIndexOffset(format, variant);
  alignas(64) float products[16] = {};
  for (int64_t g = 0; g < n_groups; ++g) {
    const uint8_t* block = blocks + static_cast<size_t>(g) * block_bytes;
    const float norm = LoadHalf(block);
    for (int k = 0; k < book.n_levels; ++k) products[k] = book.centroids[k] * norm;
#if HWY_TARGET <= HWY_AVX3
    const VF table = hn::Load(df, products);  // 16 lanes: every level
#endif
    for (size_t j = 0; j < 128; j += lanes) {
      const VI idx = UnpackTurboIndices(format, block + offset, j);
#if HWY_TARGET <= HWY_AVX3
      const VF v = hn::TableLookupLanes(table, hn::IndicesFromVec(df, idx));
#else
      const VF v = hn::GatherIndex(df, products, idx);
#endif
      hn::StoreU(v, df, y + static_cast<size_t>(g) * 128 + j);
    }
  }
}

void QuantizeTurboGroupsT(TurboFormat format, TurboVariant variant, const float* x,
                          int64_t n_groups, uint8_t* blocks) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const TurboCodebook& book = GetTurboCodebook(format, variant);
  const int n_thresholds = book.n_levels - 1;
  const size_t block_bytes = static_cast<size_t>(TurboBlockBytes(format, variant));
  const size_t offset = TurboIndexOffset(format, variant);
  float squares[16];
  for (int k = 0; k < book.n_levels; ++k) squares[k] = book.centroids[k] * book.centroids[k];
  alignas(64) float u[128];
  alignas(16) uint8_t idx[128];
  const hn::Rebind<uint8_t, DI> du8;
  for (int64_t g = 0; g < n_groups; ++g) {
    const float* group = x + g * 128;
    uint8_t* block = blocks + static_cast<size_t>(g) * block_bytes;
    // The sum of squares must be sequential to round as the reference does.
    float norm_sq = 0.0f;
    for (int i = 0; i < 128; ++i) norm_sq += group[i] * group[i];
    const float norm = std::sqrt(norm_sq);
    const bool usable = norm > kTurboNormEpsilon;
    if (format == TurboFormat::kTurbo4 && !usable) {
      std::memset(u, 0, sizeof u);  // the fork's turbo4 writes +0 (NaN norm too)
    } else {
      const VF inv = hn::Set(df, usable ? 1.0f / norm : 0.0f);
      for (size_t i = 0; i < 128; i += lanes) {
        hn::Store(hn::Mul(hn::LoadU(df, group + i), inv), df, u + i);
      }
    }
    Rotate128(u, kTurboSigns1, kTurboSigns2);
    // Index = number of thresholds t with !(u < t): ties go up, NaN to the top.
    for (size_t i = 0; i < 128; i += lanes) {
      const VF v = hn::Load(df, u + i);
      VI count = hn::Zero(di);
      for (int k = 0; k < n_thresholds; ++k) {
        const auto below = hn::RebindMask(di, hn::Lt(v, hn::Set(df, book.thresholds[k])));
        count = hn::Add(count, hn::IfThenZeroElse(below, hn::Set(di, 1)));
      }
      hn::Store(hn::DemoteTo(du8, count), du8, idx + i);
    }
    float recon_sq = 0.0f;
    for (int i = 0; i < 128; ++i) recon_sq += squares[idx[i]];
    const float recon = std::sqrt(recon_sq);
    const uint16_t norm_bits = F32ToF16(recon > kTurboNormEpsilon ? norm / recon : norm);
    block[0] = static_cast<uint8_t>(norm_bits & 0xFF);
    block[1] = static_cast<uint8_t>(norm_bits >> 8);
    if (offset == 4) block[2] = block[3] = 0;
    uint8_t* qs = block + offset;
    if (format == TurboFormat::kTurbo4) {
      for (int b = 0; b < 64; ++b) qs[b] = static_cast<uint8_t>(idx[2 * b] | (idx[2 * b + 1] << 4));
    } else {
      for (int b = 0; b < 32; ++b) {
        qs[b] = static_cast<uint8_t>((idx[4 * b] & 3) | ((idx[4 * b + 1] & 3) << 2) |
                                     ((idx[4 * b + 2] & 3) << 4) | ((idx[4 * b + 3] & 3) << 6));
      }
      if (format == TurboFormat::kTurbo3) {
        for (int b = 0; b < 16; ++b) {
          uint32_t byte = 0;
          for (int k = 0; k < 8; ++k) byte |= static_cast<uint32_t>((idx[8 * b + k] >> 2) & 1) << k;
          qs[32 + b] = static_cast<uint8_t>(byte);
        }
      }
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_TURBO_INL_H_
