// Q4_0, Q4_1, Q5_0, Q5_1 with an importance matrix (per target): each
// 32-weight block runs the reference's search (MakeQxQuants for the _0
// forms, MakeQkx3Quants for the _1 forms) in its own SIMD lane
// (quantize_search-inl.h). Reference: quants/legacy_codecs.cc.

#if defined(GGUFKIT_DEQUANT_QUANTIZE_LEGACY_IMATRIX_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_LEGACY_IMATRIX_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_LEGACY_IMATRIX_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_LEGACY_IMATRIX_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/quantize_search-inl.h"
#include "hwy/highway.h"
#include "ggufkit/quants/half.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// One row (n floats) with weights imatrix[0..n): kAsym selects the _1 forms,
// kFifth the 5-bit ones.
template <bool kAsym, bool kFifth>
void QuantizeLegacyImatrix(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  constexpr int kQK = 32;
  constexpr int kNmax = kAsym ? (kFifth ? 31 : 15) : (kFifth ? 16 : 8);
  constexpr size_t kBlockBytes = 2 + (kAsym ? 2 : 0) + (kFifth ? 4 : 0) + 16;
  const DF df;
  const size_t lanes = hn::Lanes(df);
  // The row's mean square, summed in element order.
  float sum_x2 = 0;
  for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
  const VF sigma2 = hn::Set(df, sum_x2 / static_cast<float>(n));
  HWY_ALIGN float xt[kQK * kMaxLanes];
  HWY_ALIGN float wt[kQK * kMaxLanes];
  HWY_ALIGN int32_t Lt[kQK * kMaxLanes];
  HWY_ALIGN float sc[kMaxLanes];
  HWY_ALIGN float mn[kMaxLanes];
  uint8_t L[kQK * kMaxLanes];
  const size_t groups = static_cast<size_t>(n / kQK);
  for (size_t g0 = 0; g0 < groups; g0 += lanes) {
    const size_t gn = std::min(lanes, groups - g0);
    GatherTile<kQK>(x + g0 * kQK, kQK, gn, xt);
    GatherTile<kQK>(imatrix + g0 * kQK, kQK, gn, wt);
    for (int i = 0; i < kQK; ++i) {
      const VF v = hn::Load(df, xt + i * lanes);
      const VF w = hn::Mul(hn::Load(df, wt + i * lanes), hn::Sqrt(hn::Add(sigma2, hn::Mul(v, v))));
      hn::Store(w, df, wt + i * lanes);
    }
    if (kAsym) {
      SearchQkx<kQK, false, true>(xt, wt, kNmax, -0.9f, 0.05f, 36, Lt, sc, mn);
    } else {
      SearchQx<kQK>(xt, wt, kNmax, Lt, sc);
    }
    ScatterCodes<kQK>(Lt, gn, L);
    for (size_t g = 0; g < gn; ++g) {
      uint8_t* o = out + (g0 + g) * kBlockBytes;
      const uint8_t* q = L + g * kQK;
      StoreHalf(sc[g], o);
      if (kAsym) StoreHalf(-mn[g], o + 2);  // the_min is -min
      uint8_t* qs = o + kBlockBytes - 16;
      uint32_t qh = 0;
      for (int j = 0; j < 16; ++j) {
        qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
        if (kFifth) {
          qh |= static_cast<uint32_t>((q[j] & 0x10u) >> 4) << j;
          qh |= static_cast<uint32_t>((q[j + 16] & 0x10u) >> 4) << (j + 16);
        }
      }
      if (kFifth) {
        for (int k = 0; k < 4; ++k) o[2 + (kAsym ? 2 : 0) + k] = static_cast<uint8_t>(qh >> (8 * k));
      }
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_LEGACY_IMATRIX_INL_H_
